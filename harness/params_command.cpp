// `lnbench params (--model DIR | --preset NAME) [--strategy all|NAME] [--lora-rank R] [--json]`:
// exact total and per-strategy trainable parameter counts from the config alone.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "harness/cli.h"
#include "model/config.h"
#include "training/accounting.h"

namespace lnb::harness {

void register_params(CLI::App& app, int& exit_code) {
  struct Args {
    std::string model, preset, strategy = "all";
    int lora_rank = 64;
    training::AdapterSpec adapter;
    training::PrefixSpec prefix;
    bool json = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand("params", "Exact parameter counts per strategy, no weights needed");
  cmd->add_option("--model", a.model, "Model folder with config.json (HF llava, original LLaVA, or llama)");
  cmd->add_option("--preset", a.preset, "paper-llama2-7b | paper-llama2-13b | llava-1.5-7b | llava-1.5-13b");
  std::string names;
  for (const auto& s : training::builtin_strategies()) names += (names.empty() ? "" : ", ") + s.name;
  cmd->add_option("--strategy", a.strategy, "all (default), one of: " + names + ", or a combination A+B");
  cmd->add_option("--lora-rank", a.lora_rank, "LoRA rank (default 64: the paper's numbers fit r=64)");
  cmd->add_option("--adapter-placement", a.adapter.placement, "pfeiffer (default) | houlsby | parallel");
  cmd->add_option("--adapter-reduction", a.adapter.reduction, "Adapter bottleneck = hidden size / this (default 16)");
  cmd->add_option("--prefix-length", a.prefix.length, "Prefix-tuning virtual tokens per layer (default 30)");
  cmd->add_option("--prefix-projection", a.prefix.projection, "Prefix reparameterisation MLP width, 0 = none (default 0)");
  cmd->add_flag("--json", a.json, "One JSON object");
  cmd->callback([&exit_code] {
    try {
      if (a.model.empty() == a.preset.empty()) throw std::invalid_argument("give exactly one of --model and --preset");
      const model::LlavaConfig config = a.model.empty() ? model::preset(a.preset) : model::load_config(a.model);
      training::LoraSpec lora;
      lora.rank = a.lora_rank;
      std::vector<const training::Strategy*> strategies;
      if (a.strategy == "all")
        for (const auto& s : training::builtin_strategies()) strategies.push_back(&s);
      else
        strategies.push_back(&training::find_strategy(a.strategy));
      nlohmann::ordered_json j = {{"schema", "lnbench.params/1"}, {"model", config.name}, {"lora_rank", a.lora_rank},
                                  {"adapter", {{"placement", a.adapter.placement}, {"reduction", a.adapter.reduction}}},
                                  {"prefix", {{"length", a.prefix.length}, {"projection", a.prefix.projection}}}};
      for (const training::Strategy* s : strategies) training::check_specs(config, *s, a.adapter, a.prefix);
      if (!a.json) std::printf("%s\n%-11s %16s %16s %12s\n", config.name.c_str(), "strategy", "trainable", "total", "trainable %");
      std::vector<std::string> notes;
      for (const training::Strategy* s : strategies) {
        const training::ParamCounts c = training::count_params(config, *s, lora, a.adapter, a.prefix);
        nlohmann::ordered_json row = {{"trainable", c.trainable}, {"total", c.total()}, {"base_total", c.base_total},
                                      {"lora", c.lora}, {"adapter", c.adapter}, {"prefix", c.prefix},
                                      {"trainable_pct", c.trainable_pct()}, {"summary", s->summary}};
        if (!s->note.empty()) row["note"] = s->note;
        j["strategies"][s->name] = row;
        if (!a.json)
          std::printf("%-11s %16lld %16lld %11.4f%%\n", s->name.c_str(), static_cast<long long>(c.trainable),
                      static_cast<long long>(c.total()), c.trainable_pct());
        if (!s->note.empty() && std::find(notes.begin(), notes.end(), s->note) == notes.end()) notes.push_back(s->note);
      }
      if (!a.json)
        for (const std::string& n : notes) std::printf("note: %s\n", n.c_str());
      if (a.json) std::cout << j.dump(2) << "\n";
      exit_code = kExitOk;
    } catch (const std::exception& e) {
      std::cerr << "lnbench params: " << e.what() << "\n";
      exit_code = kExitBadInput;
    }
  });
}

}  // namespace lnb::harness
