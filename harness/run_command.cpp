// `lnbench run CONFIG [--set key=value]...`: the nightly models x strategies x tasks
// matrix (harness/run_matrix.h) from a run config (harness/run_config.h); and `lnbench
// eval`: one model (and delta) on one task through the same evaluator.
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "harness/cli.h"
#include "harness/evaluator.h"
#include "harness/torch_command.h"
#include "harness/run_config.h"
#include "harness/run_matrix.h"
#include "model/loader.h"
#include "training/checkpoint.h"
#include "training/memory.h"

namespace lnb::harness {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

void register_run(CLI::App& app, int& exit_code) {
  struct Args {
    std::string config;
    std::vector<std::string> sets;
    std::map<std::string, std::string> flags;
    bool quiet = false, verbose = false, print_config = false, list_options = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand("run", "Run the nightly strategy x task matrix from a config (resumes by default)");
  cmd->add_option("config", a.config, "Run config (JSON); see docs/run_config.md");
  cmd->add_flag("--list-options", a.list_options, "Print every config option (Markdown) and exit");
  cmd->add_option("--set", a.sets, "Override an option: key=value (repeatable), e.g. --set eval.batch_size=16")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  for (const OptionSpec& s : run_options())
    if (s.key.find('*') == std::string::npos) cmd->add_option(flag_name(s.key), a.flags[s.key], s.key + ": " + s.help);
  cmd->add_flag("--quiet", a.quiet, "No progress output");
  cmd->add_flag("--verbose", a.verbose, "Also print each task's eval report");
  cmd->add_flag("--print-config", a.print_config, "Print the resolved config and exit");
  cmd->callback([&exit_code] {
    try {
      if (a.list_options) {
        std::cout << options_markdown();
        exit_code = kExitOk;
        return;
      }
      if (a.config.empty()) throw ConfigError("expected a CONFIG file (see docs/run_config.md)");
      std::vector<std::string> sets;
      for (const auto& [k, val] : a.flags)
        if (!val.empty()) sets.push_back(k + "=" + val);
      sets.insert(sets.end(), a.sets.begin(), a.sets.end());
      const ordered_json cfg = load_run_config(a.config, sets);
      check_strategies(cfg);
      if (a.print_config) {
        std::cout << cfg.dump(2) << "\n";
        exit_code = kExitOk;
        return;
      }
      exit_code = run_matrix(cfg, a.quiet, a.verbose);
    } catch (const ConfigError& e) {
      std::cerr << "lnbench run: " << e.what() << "\n";
      exit_code = kExitBadInput;
    } catch (const std::exception& e) {
      std::cerr << "lnbench run: " << error_text(e) << "\n";
      exit_code = exit_code_for(e);
    }
  });
}

void register_eval(CLI::App& app, int& exit_code) {
  // Every setting but the four that name the inputs comes from the run config's option
  // table (eval_command_options), so `eval` and `run` share declarations, defaults,
  // validation and messages.
  struct Args {
    std::string model, checkpoint, task, data, out;
    std::map<std::string, std::string> flags;  // option key -> value given ("" = default)
    bool quiet = false, allow_base_mismatch = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate a model (and checkpoint) on one task");
  cmd->add_option("--model", a.model, "Model folder (llava-hf, original LLaVA or LLaMA)")->required();
  cmd->add_option("--checkpoint", a.checkpoint, "Applied on top: a checkpoint from lnbench train/run, or a PEFT adapter folder (LoRA or LN tuning)");
  cmd->add_option("--task", a.task, "mme | vqav2 | coco | flickr30k | pope")->required();
  cmd->add_option("--data", a.data, "The benchmark's official files (data root)")->required();
  cmd->add_option("--out", a.out, "Output folder: samples.jsonl, metrics.json, eval.json, submission/ (resumed)")->required();
  for (const EvalFlag& f : eval_command_options()) cmd->add_option(f.flag, a.flags[f.spec->key], option_help(*f.spec));
  cmd->add_flag("--quiet", a.quiet, "No progress output");
  cmd->add_flag("--allow-base-mismatch", a.allow_base_mismatch,
                "Apply a --checkpoint whose meta.json names another base model (refused by default)");
  cmd->callback([&exit_code] {
    try {
      // One model and one task as a run config, resolved and validated as `run` does.
      const json file = {{"models", {{"model", {{"path", a.model}}}}}, {"tasks", {{a.task, {{"data", a.data}}}}}};
      std::vector<std::string> sets;
      for (const auto& [key, value] : a.flags) {
        if (value.empty()) continue;
        std::string k = key;
        if (const size_t star = k.find('*'); star != std::string::npos)
          k.replace(star, 1, k.rfind("tasks.", 0) == 0 ? a.task : std::string("model"));
        sets.push_back(k + "=" + value);
      }
      const ordered_json cfg = resolve_run_config(file, sets, "lnbench eval", fs::current_path());
      const ordered_json& mcfg = cfg["models"]["model"];
      training::install_counting_cpu_allocator();
      const training::DistEnv env = training::dist_env();
      std::string device = cfg["device"].get<std::string>();
      if (env.world_size > 1 && device.rfind("cuda", 0) == 0) device = "cuda:" + std::to_string(env.local_rank);
      training::Dist dist(env, c10::Device(device));
      std::unique_ptr<tasks::Task> task = load_task(a.task, cfg["tasks"][a.task]);
      model::LoadedModel m = model::load_model(
          a.model, load_options(mcfg["vision_tower"].get<std::string>(), cfg["dtype"].get<std::string>(), c10::Device(device)));
      EvalSettings es = eval_settings(cfg, mcfg);
      if (!a.checkpoint.empty()) {
        training::apply_delta(m, a.checkpoint, a.allow_base_mismatch);
        if (es.fold_lora) training::merge_lora(m.model);  // as `run` evaluates it (DeltaSwap)
      }
      es.identity = answers_identity(a.model, a.checkpoint);
      Evaluator ev(m, dist, es);
      const Progress bar(a.quiet || !dist.is_main(), a.task, "eval_progress", "sample");
      const ordered_json r = ev.evaluate(*task, a.out, [&bar](int64_t done, int64_t total, double seconds) {
        bar.update(done, total, seconds, "", json::object());
      });
      if (dist.is_main()) {
        if (!a.quiet) std::cerr << r.dump(2) << "\n";
        if (fs::exists(fs::path(a.out) / "metrics.json")) std::cout << common::read_file(fs::path(a.out) / "metrics.json");
      }
      exit_code = kExitOk;
    } catch (const ConfigError& e) {
      std::cerr << "lnbench eval: " << e.what() << "\n";
      exit_code = kExitBadInput;
    } catch (const std::exception& e) {
      std::cerr << "lnbench eval: " << error_text(e) << "\n";
      exit_code = exit_code_for(e);
    }
  });
}

}  // namespace lnb::harness
