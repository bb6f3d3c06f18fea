// `lnbench run CONFIG [--set key=value]...`: the nightly models x strategies x tasks
// matrix (harness/run_config.h), and `lnbench eval`: one model, one task.
//
// Per model: every strategy is trained first (or its checkpoint reused: checkpoints are
// content-addressed by base-model fingerprint + resolved training options + training data
// digest, in RESULTS/checkpoints/<key>/, so nights and runs share them and an interrupted
// training resumes there). Then the base model is loaded once and each strategy's delta is
// swapped over it (training::DeltaSwap) for evaluation (harness/evaluator.h), with one
// vision-feature cache for all. A failing cell is recorded in run.json with its error and
// the rest continue; the exit code is 1 if any cell failed. Rerunning the same command
// resumes: finished tasks are skipped, answered requests are not redone.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "common/sha256.h"
#include "harness/build_info.h"
#include "harness/cli.h"
#include "harness/evaluator.h"
#include "harness/progress.h"
#include "harness/run_config.h"
#include "model/loader.h"
#include "model/runtime_info.h"
#include "training/checkpoint.h"
#include "training/data.h"
#include "training/memory.h"
#include "training/trainer.h"

namespace lnb::harness {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

fs::path default_feature_cache() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "lnbench" / "features";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "lnbench" / "features";
  return fs::temp_directory_path() / "lnbench-features";
}

fs::path feature_cache_dir(const ordered_json& cfg) {
  const std::string c = cfg["eval"]["feature_cache"].get<std::string>();
  if (c == "off") return {};
  return c.empty() ? default_feature_cache() : fs::path(c);
}

training::TrainOptions train_options(const ordered_json& cfg, const ordered_json& model, const std::string& strategy) {
  const ordered_json& t = cfg["train"];
  training::TrainOptions o;
  o.model_dir = model["path"].get<std::string>();
  o.vision_tower = model["vision_tower"].get<std::string>();
  o.strategy = strategy;
  o.data_file = t["data"].get<std::string>();
  o.image_dir = t["images"].get<std::string>();
  o.init_checkpoint = t["init_checkpoint"].get<std::string>();
  o.template_name = t["template"].get<std::string>();
  o.optim.lr = t["lr"].get<double>();
  o.optim.weight_decay = t["weight_decay"].get<double>();
  o.optim.warmup_ratio = t["warmup_ratio"].get<double>();
  o.epochs = t["epochs"].get<int64_t>();
  o.max_steps = t["max_steps"].get<int64_t>();
  o.batch_size = t["batch_size"].get<int64_t>();
  o.grad_accum = t["grad_accum"].get<int64_t>();
  o.max_length = t["max_length"].get<int64_t>();
  o.lora.rank = t["lora_rank"].get<int64_t>();
  o.lora.alpha = t["lora_alpha"].get<double>();
  o.lora.dropout = t["lora_dropout"].get<double>();
  o.gradient_checkpointing = t["gradient_checkpointing"].get<bool>();
  o.seed = cfg["seed"].get<uint64_t>();
  o.dtype = cfg["dtype"].get<std::string>();
  o.device = cfg["device"].get<std::string>();
  o.tf32 = cfg["tf32"].get<bool>();
  return o;
}

// What a checkpoint's content depends on: the base weights, the training data and
// every option that changes the result (paths, devices and world size excluded: the
// trainer's global-batch loss makes them irrelevant up to float rounding).
std::string checkpoint_key(const training::TrainOptions& o) {
  nlohmann::json j = o.to_json();
  for (const char* k : {"model_dir", "vision_tower", "data_file", "image_dir", "out_dir", "init_checkpoint", "device"})
    j.erase(k);
  common::Sha256 h;
  h.update("lnbench.checkpoint-key/1\n" + j.dump() + "\n");
  h.update("base " + training::model_fingerprint(o.model_dir) + "\n");
  if (!o.vision_tower.empty()) h.update("tower " + training::model_fingerprint(o.vision_tower) + "\n");
  h.update("data " + common::sha256_file(o.data_file).sha256 + "\n");
  if (!o.init_checkpoint.empty())
    h.update("init " + common::sha256_file(fs::is_directory(o.init_checkpoint) ? o.init_checkpoint / "model.safetensors"
                                                                                : o.init_checkpoint).sha256 + "\n");
  return h.hex_digest();
}

ordered_json run_metadata() {
  const model::RuntimeInfo info = model::runtime_info();
  return {{"lnbench", kLnbVersion},
          {"git_sha", kLnbGitSha},
          {"torch", info.torch_version},
          {"cuda_compiled", info.cuda_compiled},
          {"cuda_available", info.cuda_available},
          {"gpu", info.gpu_name},
          {"nccl", info.nccl_version},
          {"opencv", info.opencv_version},
          {"sentencepiece", info.sentencepiece_version}};
}

struct Verbosity {
  bool quiet = false, verbose = false;
};

void say(const Verbosity& v, bool main, const std::string& text) {
  if (main && !v.quiet) std::cerr << text << "\n";
}

// The per-task evaluation progress of one cell.
EvalProgress eval_progress(const Verbosity& v, bool main, const std::string& label) {
  auto bar = std::make_shared<Progress>(v.quiet || !main, label, "eval_progress", "sample");
  return [bar](int64_t done, int64_t total, double seconds) { bar->update(done, total, seconds, "", json::object()); };
}

std::unique_ptr<tasks::Task> load_task(const std::string& name, const ordered_json& t) {
  std::unique_ptr<tasks::Task> task = tasks::make_task(name);
  tasks::TaskOptions o;
  o.split = t["split"].get<std::string>();
  if (t["limit"].get<int64_t>() > 0) o.limit = t["limit"].get<int64_t>();
  if (t["max_new_tokens"].get<int64_t>() > 0) o.max_new_tokens = static_cast<int>(t["max_new_tokens"].get<int64_t>());
  task->load(t["data"].get<std::string>(), o);
  return task;
}

int run_matrix(const ordered_json& cfg, const Verbosity& v) {
  const auto t_run = std::chrono::steady_clock::now();
  training::install_counting_cpu_allocator();
  const training::DistEnv env = training::dist_env();
  std::string device = cfg["device"].get<std::string>();
  if (env.world_size > 1 && device.rfind("cuda", 0) == 0) device = "cuda:" + std::to_string(env.local_rank);
  training::Dist dist(env, c10::Device(device));
  const bool main = dist.is_main();
  const fs::path results = cfg["results"].get<std::string>();
  const fs::path run_dir = results / cfg["run_id"].get<std::string>();
  const fs::path ckpt_root = cfg["train"]["checkpoints"].get<std::string>().empty()
                                 ? results / "checkpoints" : fs::path(cfg["train"]["checkpoints"].get<std::string>());
  fs::create_directories(run_dir);

  ordered_json run = {{"schema", "lnbench.run/1"}, {"run_id", cfg["run_id"]}, {"date", now_iso()},
                      {"git_sha", kLnbGitSha}, {"protocol", cfg["protocol"]}};
  if (fs::exists(run_dir / "run.json")) {  // a resumed run keeps its date and its earlier attempts
    try {
      const json prev = json::parse(common::read_file(run_dir / "run.json"));
      run["date"] = prev.value("date", run["date"].get<std::string>());
      run["attempts"] = prev.value("attempts", 0) + 1;
    } catch (const std::exception&) {
      run["attempts"] = 1;
    }
  } else {
    run["attempts"] = 1;
  }
  run["status"] = "running";
  run["config"] = cfg;
  run["versions"] = run_metadata();
  run["device"] = {{"name", device}, {"world_size", dist.world_size()}, {"backend", dist.backend()}};
  run["seeds"] = {{"train", cfg["seed"]}, {"generation", "greedy (no sampling)"}};
  ordered_json cells = ordered_json::array();
  ordered_json phases = ordered_json::array();
  auto write_run = [&] {
    if (!main) return;
    run["cells"] = cells;
    run["phases"] = phases;
    run["wall_seconds"] = seconds_since(t_run);
    common::write_file_atomic(run_dir / "run.json", run.dump(2) + "\n");
  };
  write_run();
  const c10::Device dev(device);
  bool any_failed = false;
  std::map<std::string, std::unique_ptr<tasks::Task>> task_cache;
  std::map<std::string, std::string> task_errors;
  for (const auto& [tname, t] : cfg["tasks"].items()) {
    try {
      task_cache[tname] = load_task(tname, t);
    } catch (const std::exception& e) {
      task_errors[tname] = e.what();
    }
  }

  for (const auto& [mname, mcfg] : cfg["models"].items()) {
    // Phase 1: training (or reuse) per strategy.
    std::map<std::string, fs::path> checkpoint;  // strategy -> checkpoint folder
    std::map<std::string, std::string> failed;   // strategy -> error
    for (const auto& sj : cfg["strategies"]) {
      const std::string strategy = sj.get<std::string>();
      const fs::path cell = run_dir / mname / strategy;
      fs::create_directories(cell);
      if (strategy == "base") continue;
      const auto t0 = std::chrono::steady_clock::now();
      ordered_json phase = {{"phase", "train"}, {"model", mname}, {"strategy", strategy}};
      try {
        (void)training::find_strategy(strategy);
        if (cfg["train"]["data"].get<std::string>().empty())
          throw ConfigError("'train.data': expected an instruction JSON for strategy '" + strategy + "', found nothing");
        training::TrainOptions o = train_options(cfg, mcfg, strategy);
        const std::string key = checkpoint_key(o);
        o.out_dir = ckpt_root / key;
        const bool reuse = fs::exists(o.out_dir / "train.json") && fs::exists(o.out_dir / "checkpoint" / "meta.json");
        json report;
        if (reuse) {
          report = json::parse(common::read_file(o.out_dir / "train.json"));
          say(v, main, "reusing checkpoint " + key.substr(0, 12) + " for " + mname + "/" + strategy);
        } else {
          auto bar = std::make_shared<Progress>(v.quiet || !main, mname + "/" + strategy + " train", "train_step", "step");
          double elapsed = 0;
          report = training::train(o, dist, [&](const training::StepRecord& r, int64_t total) {
            elapsed += r.seconds;
            bar->update(r.step, total, elapsed, "loss " + std::to_string(r.loss), {{"loss", r.loss}, {"lr", r.lr}});
          });
        }
        report["checkpoint_key"] = key;
        report["checkpoint"] = (o.out_dir / "checkpoint").string();
        report["reused"] = reuse;
        report["model"] = mname;
        if (main) common::write_file_atomic(cell / "train.json", report.dump(2) + "\n");
        checkpoint[strategy] = o.out_dir / "checkpoint";
        phase["reused"] = reuse;
        phase["peak_memory_bytes"] = report.value("peak_train_memory_bytes", 0);
      } catch (const std::exception& e) {
        failed[strategy] = std::string("training: ") + e.what();
        phase["error"] = e.what();
        std::cerr << "lnbench run: " << mname << "/" << strategy << ": training failed: " << e.what() << "\n";
      }
      phase["seconds"] = seconds_since(t0);
      phases.push_back(phase);
      write_run();
    }

    // Phase 2: one resident base model, deltas swapped over it.
    std::unique_ptr<model::LoadedModel> m;
    std::string load_error;
    const auto t_load = std::chrono::steady_clock::now();
    training::reset_peak_memory(dev);
    try {
      model::LoadOptions lo;
      lo.vision_tower = mcfg["vision_tower"].get<std::string>();
      lo.dtype = model::parse_dtype(cfg["dtype"].get<std::string>());
      lo.device = dev;
      m = std::make_unique<model::LoadedModel>(model::load_model(mcfg["path"].get<std::string>(), lo));
    } catch (const std::exception& e) {
      load_error = std::string("loading the model: ") + e.what();
    }
    phases.push_back({{"phase", "load"}, {"model", mname}, {"seconds", seconds_since(t_load)},
                      {"peak_memory_bytes", training::read_memory(dev).peak_bytes}});
    if (!load_error.empty()) phases.back()["error"] = load_error;
    EvalSettings es;
    es.batch_size = cfg["eval"]["batch_size"].get<int64_t>();
    es.batch_check = cfg["eval"]["batch_check"].get<int64_t>();
    es.feature_cache = feature_cache_dir(cfg);
    es.template_name = mcfg["template"].get<std::string>();
    std::unique_ptr<Evaluator> ev;
    if (m) ev = std::make_unique<Evaluator>(*m, dist, es);
    std::unique_ptr<training::DeltaSwap> swap;
    if (m) swap = std::make_unique<training::DeltaSwap>(*m);
    for (const auto& sj : cfg["strategies"]) {
      const std::string strategy = sj.get<std::string>();
      const fs::path cell = run_dir / mname / strategy;
      ordered_json c = {{"model", mname}, {"strategy", strategy}, {"tasks", ordered_json::object()}};
      std::string cell_error = failed.count(strategy) ? failed[strategy] : load_error;
      if (cell_error.empty() && strategy != "base") {
        try {
          swap->apply(checkpoint.at(strategy));
        } catch (const std::exception& e) {
          cell_error = std::string("applying the checkpoint: ") + e.what();
        }
      } else if (cell_error.empty()) {
        swap->restore();
      }
      if (ev) ev->set_identity(answers_identity(mcfg["path"].get<std::string>(),
                                                strategy == "base" || !checkpoint.count(strategy) ? fs::path()
                                                                                                : checkpoint.at(strategy)));
      for (const auto& [tname, tcfg] : cfg["tasks"].items()) {
        (void)tcfg;
        const auto t0 = std::chrono::steady_clock::now();
        ordered_json phase = {{"phase", "eval"}, {"model", mname}, {"strategy", strategy}, {"task", tname}};
        std::string err = !cell_error.empty() ? cell_error : task_errors.count(tname) ? "task data: " + task_errors[tname] : "";
        if (err.empty()) {
          try {
            const ordered_json r = ev->evaluate(*task_cache.at(tname), cell / tname,
                                                eval_progress(v, main, mname + "/" + strategy + "/" + tname));
            phase["eval"] = r;
            if (main && v.verbose) std::cerr << r.dump() << "\n";
          } catch (const std::exception& e) {
            err = e.what();
          }
        }
        if (!err.empty()) {
          phase["error"] = err;
          any_failed = true;
          std::cerr << "lnbench run: " << mname << "/" << strategy << "/" << tname << ": " << err << "\n";
        }
        c["tasks"][tname] = err.empty() ? ordered_json("ok") : ordered_json({{"error", err}});
        phase["seconds"] = seconds_since(t0);
        phases.push_back(phase);
        write_run();
      }
      c["status"] = cell_error.empty() ? "ok" : "failed";
      if (!cell_error.empty()) c["error"] = cell_error, any_failed = true;
      cells.push_back(c);
      write_run();
    }
  }
  const training::MemoryReading mem = training::read_memory(dev);
  run["peak_rss_bytes"] = mem.peak_rss_bytes;
  run["status"] = any_failed ? "failed" : "ok";
  write_run();
  say(v, main, std::string("lnbench run: ") + (any_failed ? "finished with failures" : "finished") + " -> " + run_dir.string());
  return any_failed ? kExitFailure : kExitOk;
}

}  // namespace

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
      ->expected(1)
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
      if (a.config.empty()) throw ConfigError("lnbench run: expected a CONFIG file (see docs/run_config.md)");
      std::vector<std::string> sets;
      for (const auto& [k, val] : a.flags)
        if (!val.empty()) sets.push_back(k + "=" + val);
      sets.insert(sets.end(), a.sets.begin(), a.sets.end());
      const ordered_json cfg = load_run_config(a.config, sets);
      if (a.print_config) {
        std::cout << cfg.dump(2) << "\n";
        exit_code = kExitOk;
        return;
      }
      exit_code = run_matrix(cfg, {a.quiet, a.verbose});
    } catch (const ConfigError& e) {
      std::cerr << "lnbench run: " << e.what() << "\n";
      exit_code = kExitBadInput;
    } catch (const std::exception& e) {
      std::cerr << "lnbench run: " << e.what() << "\n";
      exit_code = kExitFailure;
    }
  });
}

void register_eval(CLI::App& app, int& exit_code) {
  struct Args {
    std::string model, checkpoint, vision_tower, task, data, out, split, feature_cache, template_name = "vicuna_v1";
    std::string dtype = "fp32", device = "cpu";
    int64_t batch_size = 8, limit = 0, batch_check = 4;
    bool quiet = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate a model (and checkpoint) on one task");
  cmd->add_option("--model", a.model, "Model folder (llava-hf, original LLaVA or LLaMA)")->required();
  cmd->add_option("--checkpoint", a.checkpoint, "A checkpoint from lnbench train/run applied on top");
  cmd->add_option("--vision-tower", a.vision_tower, "CLIP folder for original LLaVA");
  cmd->add_option("--task", a.task, "mme | vqav2 | coco | flickr30k | pope")->required();
  cmd->add_option("--data", a.data, "The benchmark's official files (data root)")->required();
  cmd->add_option("--out", a.out, "Output folder: samples.jsonl, metrics.json, eval.json, submission/ (resumed)")->required();
  cmd->add_option("--split", a.split, "Split ('' = the task's default)");
  cmd->add_option("--limit", a.limit, "Evaluate at least this many requests, whole images (0 = all)");
  cmd->add_option("--batch-size", a.batch_size, "Requests per generation batch (default 8)")->check(CLI::PositiveNumber);
  cmd->add_option("--batch-check", a.batch_check, "Requests re-decoded at batch 1 (default 4)");
  cmd->add_option("--feature-cache", a.feature_cache, "Vision-feature cache folder (default ~/.cache/lnbench/features; 'off')");
  cmd->add_option("--template", a.template_name, "vicuna_v1 (default) | llava_llama_2 | plain");
  cmd->add_option("--dtype", a.dtype, "fp32 (default) | bf16 | fp16");
  cmd->add_option("--device", a.device, "cpu (default) | cuda | cuda:N");
  cmd->add_flag("--quiet", a.quiet, "No progress output");
  cmd->callback([&exit_code] {
    try {
      training::install_counting_cpu_allocator();
      const training::DistEnv env = training::dist_env();
      std::string device = a.device;
      if (env.world_size > 1 && device.rfind("cuda", 0) == 0) device = "cuda:" + std::to_string(env.local_rank);
      training::Dist dist(env, c10::Device(device));
      std::unique_ptr<tasks::Task> task = tasks::make_task(a.task);
      tasks::TaskOptions to;
      to.split = a.split;
      if (a.limit > 0) to.limit = a.limit;
      task->load(a.data, to);
      model::LoadOptions lo;
      lo.vision_tower = a.vision_tower;
      lo.dtype = model::parse_dtype(a.dtype);
      lo.device = c10::Device(device);
      model::LoadedModel m = model::load_model(a.model, lo);
      if (!a.checkpoint.empty()) training::apply_delta(m, a.checkpoint);
      EvalSettings es;
      es.batch_size = a.batch_size;
      es.batch_check = a.batch_check;
      es.feature_cache = a.feature_cache == "off" ? fs::path() : a.feature_cache.empty() ? default_feature_cache()
                                                                                         : fs::path(a.feature_cache);
      es.template_name = a.template_name;
      es.identity = answers_identity(a.model, a.checkpoint);
      Evaluator ev(m, dist, es);
      const ordered_json r = ev.evaluate(*task, a.out, eval_progress({a.quiet, false}, dist.is_main(), a.task));
      if (dist.is_main()) {
        if (!a.quiet) std::cerr << r.dump(2) << "\n";
        if (fs::exists(fs::path(a.out) / "metrics.json")) std::cout << common::read_file(fs::path(a.out) / "metrics.json");
      }
      exit_code = kExitOk;
    } catch (const std::exception& e) {
      std::cerr << "lnbench eval: " << e.what() << "\n";
      const bool bad_input = dynamic_cast<const tasks::DataError*>(&e) != nullptr ||
                             dynamic_cast<const std::invalid_argument*>(&e) != nullptr ||
                             dynamic_cast<const model::ModelLoadError*>(&e) != nullptr;
      exit_code = bad_input ? kExitBadInput : kExitFailure;
    }
  });
}

}  // namespace lnb::harness
