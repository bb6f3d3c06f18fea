// `lnbench params (--model DIR | --preset NAME) [--strategy all|NAME] [--lora-rank R] [--json]`:
// exact total and per-strategy trainable parameter counts from the config alone.
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
    bool json = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand("params", "Exact parameter counts per strategy, no weights needed");
  cmd->add_option("--model", a.model, "Model folder with config.json (HF llava, original LLaVA, or llama)");
  cmd->add_option("--preset", a.preset, "paper-llama2-7b | paper-llama2-13b | llava-1.5-7b | llava-1.5-13b");
  cmd->add_option("--strategy", a.strategy, "all (default) or one of: full, lora, attn-qv, attn-mlp, ln, ln-simple, connector");
  cmd->add_option("--lora-rank", a.lora_rank, "LoRA rank (default 64: the paper's numbers fit r=64)");
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
      nlohmann::ordered_json j = {{"schema", "lnbench.params/1"}, {"model", config.name}, {"lora_rank", a.lora_rank}};
      if (!a.json) std::printf("%s\n%-10s %16s %16s %12s\n", config.name.c_str(), "strategy", "trainable", "total", "trainable %");
      for (const training::Strategy* s : strategies) {
        const training::ParamCounts c = training::count_params(config, *s, lora);
        j["strategies"][s->name] = {{"trainable", c.trainable}, {"total", c.total()}, {"base_total", c.base_total},
                                    {"lora", c.lora}, {"trainable_pct", c.trainable_pct()}};
        if (!a.json)
          std::printf("%-10s %16lld %16lld %11.4f%%\n", s->name.c_str(), static_cast<long long>(c.trainable),
                      static_cast<long long>(c.total()), c.trainable_pct());
      }
      if (a.json) std::cout << j.dump(2) << "\n";
      exit_code = kExitOk;
    } catch (const std::exception& e) {
      std::cerr << "lnbench params: " << e.what() << "\n";
      exit_code = kExitBadInput;
    }
  });
}

}  // namespace lnb::harness
