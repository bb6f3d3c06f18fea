// The matrix of `lnbench run` (harness/run_command.cpp parses the command line): per
// model, phase 1 trains every strategy or reuses its content-addressed checkpoint; phase 2
// loads the base once and evaluates each strategy's delta swapped over it. Every step is
// recorded in run.json as it finishes; a failure fails its cell, not the run.
#include "harness/run_matrix.h"

#include "model/fingerprint.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <map>

#include <ATen/ATen.h>

#include "common/json_io.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "harness/build_info.h"
#include "harness/cli.h"
#include "harness/evaluator.h"
#include "harness/progress.h"
#include "harness/torch_command.h"
#include "harness/run_config.h"
#include "model/loader.h"
#include "model/runtime_info.h"
#include "training/accounting.h"
#include "training/checkpoint.h"
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
  const std::map<std::string, double> rates = parse_strategy_lr(t["strategy_lr"].get<std::string>());
  if (const auto it = rates.find(strategy); it != rates.end()) o.optim.lr = it->second;
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
  o.adapter.placement = t["adapter_placement"].get<std::string>();
  o.adapter.reduction = t["adapter_reduction"].get<int64_t>();
  o.adapter.non_linearity = t["adapter_non_linearity"].get<std::string>();
  o.adapter.scaling = t["adapter_scaling"].get<double>();
  o.prefix.length = t["prefix_length"].get<int64_t>();
  o.prefix.projection = t["prefix_projection"].get<int64_t>();
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
  h.update("base " + model::model_fingerprint(o.model_dir) + "\n");
  if (!o.vision_tower.empty()) h.update("tower " + model::model_fingerprint(o.vision_tower) + "\n");
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

}  // namespace

std::unique_ptr<tasks::Task> load_task(const std::string& name, const ordered_json& t) {
  std::unique_ptr<tasks::Task> task = tasks::make_task(name);
  tasks::TaskOptions o;
  o.split = t["split"].get<std::string>();
  if (t["limit"].get<int64_t>() > 0) o.limit = t["limit"].get<int64_t>();
  if (t["max_new_tokens"].get<int64_t>() > 0) o.max_new_tokens = static_cast<int>(t["max_new_tokens"].get<int64_t>());
  o.allow_symlinks_out = t["allow_symlinks_out"].get<bool>();
  task->load(t["data"].get<std::string>(), o);
  return task;
}

EvalSettings eval_settings(const ordered_json& cfg, const ordered_json& mcfg) {
  const ordered_json& e = cfg["eval"];
  EvalSettings es;
  es.batch_size = e["batch_size"].get<int64_t>();
  es.batch_check = e["batch_check"].get<int64_t>();
  es.feature_cache = feature_cache_dir(cfg);
  es.prefix_sharing = e["prefix_sharing"].get<bool>();
  es.prefix_cache_mb = e["prefix_cache_mb"].get<int64_t>();
  es.vision_batch = e["vision_batch"].get<int64_t>();
  es.cuda_graphs = e["cuda_graphs"].get<std::string>();
  es.fold_lora = e["fold_lora"].get<bool>();
  es.sampling.temperature = e["temperature"].get<double>();
  es.sampling.top_k = e["top_k"].get<int64_t>();
  es.sampling.top_p = e["top_p"].get<double>();
  es.sampling.seed = static_cast<uint64_t>(e["seed"].get<int64_t>());
  es.min_new_tokens = e["min_new_tokens"].get<int64_t>();
  es.template_name = mcfg["template"].get<std::string>();
  return es;
}

namespace {

class MatrixRun {
 public:
  MatrixRun(const ordered_json& cfg, bool quiet, bool verbose)
      : cfg_(cfg), quiet_(quiet), verbose_(verbose), t_run_(std::chrono::steady_clock::now()), env_(training::dist_env()),
        device_(local_device(cfg["device"].get<std::string>(), env_)), dist_(env_, device_),
        run_dir_(fs::path(cfg["results"].get<std::string>()) / cfg["run_id"].get<std::string>()),
        ckpt_root_(cfg["train"]["checkpoints"].get<std::string>().empty()
                       ? fs::path(cfg["results"].get<std::string>()) / "checkpoints"
                       : fs::path(cfg["train"]["checkpoints"].get<std::string>())) {}

  int execute() {
    start_record();
    for (const auto& [tname, t] : cfg_["tasks"].items()) {
      try {
        tasks_[tname] = load_task(tname, t);
      } catch (const std::exception& e) {
        task_errors_[tname] = e.what();
      }
    }
    for (const auto& [mname, mcfg] : cfg_["models"].items()) {
      const Trained trained = train_model(mname, mcfg);
      evaluate_model(mname, mcfg, trained);
    }
    run_["peak_rss_bytes"] = training::read_memory(device_).peak_rss_bytes;
    run_["status"] = any_failed_ ? "failed" : "ok";
    write_run();
    say(std::string("lnbench run: ") + (any_failed_ ? "finished with failures" : "finished") + " -> " + run_dir_.string());
    return any_failed_ ? kExitFailure : kExitOk;
  }

 private:
  struct Trained {
    std::map<std::string, fs::path> checkpoint;  // strategy -> checkpoint folder
    std::map<std::string, std::string> failed;   // strategy -> error
  };

  static c10::Device local_device(std::string device, const training::DistEnv& env) {
    if (env.world_size > 1 && device.rfind("cuda", 0) == 0) device = "cuda:" + std::to_string(env.local_rank);
    return c10::Device(device);
  }

  bool main() const { return dist_.is_main(); }
  void say(const std::string& text) const {
    if (main() && !quiet_) std::cerr << text << "\n";
  }

  // run.json at the start; a resumed run keeps its date and counts its attempts.
  void start_record() {
    fs::create_directories(run_dir_);
    run_ = {{"schema", "lnbench.run/1"}, {"run_id", cfg_["run_id"]}, {"date", now_iso()},
            {"git_sha", kLnbGitSha}, {"protocol", cfg_["protocol"]}, {"attempts", 1}};
    if (fs::exists(run_dir_ / "run.json")) {
      try {
        const json prev = common::read_json((run_dir_ / "run.json").string());
        run_["date"] = prev.value("date", run_["date"].get<std::string>());
        run_["attempts"] = prev.value("attempts", 0) + 1;
      } catch (const std::exception&) {  // a damaged record is replaced, not fatal
      }
    }
    run_["status"] = "running";
    run_["config"] = cfg_;
    run_["versions"] = run_metadata();
    run_["device"] = {{"name", device_.str()}, {"world_size", dist_.world_size()}, {"backend", dist_.backend()}};
    ordered_json train_seeds = ordered_json::array();
    for (const MatrixCell& mc : matrix_cells(cfg_))
      if (mc.strategy != "base" && std::find(train_seeds.begin(), train_seeds.end(), mc.seed) == train_seeds.end())
        train_seeds.push_back(mc.seed);
    run_["seeds"] = {{"train", train_seeds.empty() ? ordered_json::array({cfg_["seed"]}) : train_seeds},
                     {"generation", "greedy (no sampling)"}};
    write_run();
  }

  void write_run() {
    if (!main()) return;
    run_["cells"] = cells_;
    run_["phases"] = phases_;
    run_["wall_seconds"] = seconds_since(t_run_);
    common::write_file_atomic(run_dir_ / "run.json", run_.dump(2) + "\n");
  }

  // Phase 1: each strategy trained, or its checkpoint reused by content.
  Trained train_model(const std::string& mname, const ordered_json& mcfg) {
    Trained out;
    for (const MatrixCell& mc : matrix_cells(cfg_)) {
      const std::string& strategy = mc.name;  // the cell: results folder and report row
      const fs::path cell = run_dir_ / mname / strategy;
      fs::create_directories(cell);
      if (mc.strategy == "base") continue;
      const auto t0 = std::chrono::steady_clock::now();
      ordered_json phase = {{"phase", "train"}, {"model", mname}, {"strategy", strategy}, {"seed", mc.seed}};
      try {
        (void)training::find_strategy(mc.strategy);
        if (cfg_["train"]["data"].get<std::string>().empty())
          throw ConfigError("'train.data': expected an instruction JSON for strategy '" + mc.strategy + "', found nothing");
        training::TrainOptions o = train_options(cfg_, mcfg, mc.strategy);
        o.seed = mc.seed;
        const std::string key = checkpoint_key(o);
        o.out_dir = ckpt_root_ / key;
        const bool reuse = fs::exists(o.out_dir / "train.json") && fs::exists(o.out_dir / "checkpoint" / "meta.json");
        json report;
        if (reuse) {
          report = common::read_json((o.out_dir / "train.json").string());
          say("reusing checkpoint " + key.substr(0, 12) + " for " + mname + "/" + strategy);
        } else {
          StepProgress progress(quiet_ || !main(), mname + "/" + strategy + " train");
          report = training::train(o, dist_, std::ref(progress));
        }
        report["checkpoint_key"] = key;
        report["checkpoint"] = (o.out_dir / "checkpoint").string();
        report["reused"] = reuse;
        report["model"] = mname;
        report["seed"] = mc.seed;
        if (main()) common::write_file_atomic(cell / "train.json", report.dump(2) + "\n");
        out.checkpoint[strategy] = o.out_dir / "checkpoint";
        phase["reused"] = reuse;
        phase["peak_memory_bytes"] = report.value("peak_train_memory_bytes", 0);
      } catch (const std::exception& e) {
        out.failed[strategy] = std::string("training: ") + e.what();
        phase["error"] = e.what();
        std::cerr << "lnbench run: " << mname << "/" << strategy << ": training failed: " << e.what() << "\n";
      }
      phase["seconds"] = seconds_since(t0);
      phases_.push_back(phase);
      write_run();
    }
    return out;
  }

  // Phase 2: one resident base model, each strategy's delta swapped over it.
  void evaluate_model(const std::string& mname, const ordered_json& mcfg, const Trained& trained) {
    std::unique_ptr<model::LoadedModel> m;
    std::string load_error;
    const auto t_load = std::chrono::steady_clock::now();
    training::reset_peak_memory(device_);
    try {
      m = std::make_unique<model::LoadedModel>(model::load_model(
          mcfg["path"].get<std::string>(),
          load_options(mcfg["vision_tower"].get<std::string>(), cfg_["dtype"].get<std::string>(), device_)));
    } catch (const std::exception& e) {
      load_error = std::string("loading the model: ") + e.what();
    }
    phases_.push_back({{"phase", "load"}, {"model", mname}, {"seconds", seconds_since(t_load)},
                       {"peak_memory_bytes", training::read_memory(device_).peak_bytes}});
    if (!load_error.empty()) phases_.back()["error"] = load_error;
    EvalSettings es = eval_settings(cfg_, mcfg);
    if (cfg_["reuse_answers"].get<bool>()) {
      // The same model/strategy/task folder in every other night of this store, newest
      // run id first; the evaluator takes one whose answers key is this one's.
      const fs::path results = run_dir_.parent_path(), me = run_dir_;
      es.reuse_candidates = [results, me](const fs::path& dir) {
        std::vector<fs::path> out;
        const fs::path rel = fs::relative(dir, me);
        for (const auto& e : fs::directory_iterator(results))
          if (e.is_directory() && e.path() != me && fs::exists(e.path() / "run.json") && fs::is_directory(e.path() / rel))
            out.push_back(e.path() / rel);
        std::sort(out.rbegin(), out.rend());
        return out;
      };
    }
    std::unique_ptr<Evaluator> ev;
    std::unique_ptr<training::DeltaSwap> swap;
    if (m) ev = std::make_unique<Evaluator>(*m, dist_, es), swap = std::make_unique<training::DeltaSwap>(*m);
    if (swap) swap->set_fold_lora(es.fold_lora);
    for (const MatrixCell& mc : matrix_cells(cfg_)) {
      const std::string& strategy = mc.name;
      std::string cell_error = trained.failed.count(strategy) ? trained.failed.at(strategy) : load_error;
      const auto ckpt = trained.checkpoint.find(strategy);
      const fs::path delta = ckpt == trained.checkpoint.end() ? fs::path() : ckpt->second;
      if (cell_error.empty()) {
        try {
          if (delta.empty()) swap->restore();
          else swap->apply(delta);
          ev->set_identity(answers_identity(mcfg["path"].get<std::string>(), delta));
        } catch (const std::exception& e) {
          cell_error = std::string("applying the checkpoint: ") + e.what();
        }
      }
      evaluate_cell(mname, strategy, cell_error, ev.get());
    }
    if (!cfg_.contains("checkpoints")) return;
    for (const auto& [cname, ccfg] : cfg_["checkpoints"].items()) {
      const std::string for_model = ccfg["model"].get<std::string>();
      if (!for_model.empty() && for_model != mname) continue;
      evaluate_external(mname, mcfg, cname, ccfg["path"].get<std::string>(), load_error, ev.get(), swap.get());
    }
  }

  // A checkpoint trained elsewhere, a strategy by its entry's name: applied over the
  // resident base like a trained delta; what it holds is its parameter count.
  void evaluate_external(const std::string& mname, const ordered_json& mcfg, const std::string& cname, const fs::path& path,
                         std::string cell_error, Evaluator* ev, training::DeltaSwap* swap) {
    const fs::path cell = run_dir_ / mname / cname;
    fs::create_directories(cell);
    const auto t0 = std::chrono::steady_clock::now();
    ordered_json phase = {{"phase", "apply"}, {"model", mname}, {"strategy", cname}, {"checkpoint", path.string()}};
    if (cell_error.empty()) {
      try {
        if (!fs::exists(path)) throw model::ModelLoadError(path.string() + ": no such checkpoint (checkpoints." + cname + ".path)");
        const json meta = swap->apply(path);
        ev->set_identity(answers_identity(mcfg["path"].get<std::string>(), path));
        const ordered_json info = {{"schema", "lnbench.external/1"}, {"name", cname}, {"model", mname},
                                   {"kind", meta.value("kind", "")}, {"path", path.string()},
                                   {"trainable_params", meta.value("trainable_params", int64_t{0})},
                                   {"total_params", meta.value("total_params", int64_t{0})}, {"applied", meta}};
        if (main()) common::write_file_atomic(cell / "checkpoint.json", info.dump(2) + "\n");
        phase["kind"] = info["kind"];
        phase["trainable_params"] = info["trainable_params"];
      } catch (const std::exception& e) {
        cell_error = std::string("applying checkpoints.") + cname + ": " + e.what();
        phase["error"] = e.what();
      }
    }
    phase["seconds"] = seconds_since(t0);
    phases_.push_back(phase);
    evaluate_cell(mname, cname, cell_error, ev);
  }

  void evaluate_cell(const std::string& mname, const std::string& strategy, const std::string& cell_error, Evaluator* ev) {
    ordered_json c = {{"model", mname}, {"strategy", strategy}, {"tasks", ordered_json::object()}};
    for (const auto& [tname, tcfg] : cfg_["tasks"].items()) {
      (void)tcfg;
      const auto t0 = std::chrono::steady_clock::now();
      ordered_json phase = {{"phase", "eval"}, {"model", mname}, {"strategy", strategy}, {"task", tname}};
      std::string err = !cell_error.empty() ? cell_error : task_errors_.count(tname) ? "task data: " + task_errors_[tname] : "";
      if (err.empty()) {
        try {
          const Progress bar(quiet_ || !main(), mname + "/" + strategy + "/" + tname, "eval_progress", "sample");
          const ordered_json r = ev->evaluate(*tasks_.at(tname), run_dir_ / mname / strategy / tname,
                                              [&bar](int64_t done, int64_t total, double seconds) {
                                                bar.update(done, total, seconds, "", json::object());
                                              });
          phase["eval"] = r;
          if (main() && verbose_) std::cerr << r.dump() << "\n";
        } catch (const std::exception& e) {
          err = e.what();
        }
      }
      if (!err.empty()) {
        phase["error"] = err;
        any_failed_ = true;
        std::cerr << "lnbench run: " << mname << "/" << strategy << "/" << tname << ": " << err << "\n";
      }
      c["tasks"][tname] = err.empty() ? ordered_json("ok") : ordered_json({{"error", err}});
      phase["seconds"] = seconds_since(t0);
      phases_.push_back(phase);
      write_run();
    }
    c["status"] = cell_error.empty() ? "ok" : "failed";
    if (!cell_error.empty()) c["error"] = cell_error, any_failed_ = true;
    cells_.push_back(c);
    write_run();
  }

  const ordered_json& cfg_;
  bool quiet_, verbose_;
  std::chrono::steady_clock::time_point t_run_;
  training::DistEnv env_;
  c10::Device device_;
  training::Dist dist_;
  fs::path run_dir_, ckpt_root_;
  ordered_json run_, cells_ = ordered_json::array(), phases_ = ordered_json::array();
  std::map<std::string, std::unique_ptr<tasks::Task>> tasks_;
  std::map<std::string, std::string> task_errors_;
  bool any_failed_ = false;
};

}  // namespace

void check_strategies(const ordered_json& cfg) {
  if (cfg.contains("checkpoints"))  // run_config.h checks the rest; the strategy registry lives here
    for (const auto& [cname, c] : cfg["checkpoints"].items()) {
      (void)c;
      for (const training::Strategy& s : training::builtin_strategies())
        if (s.name == cname)
          throw ConfigError("'checkpoints." + cname + "': expected a name that is not a strategy's (it becomes the "
                            "checkpoint's strategy column), found '" + cname + "', a built-in strategy");
    }
  // Every strategy resolves (a combination naming a part twice does not) and its adapter and
  // prefix specs fit every model, before anything trains: a bad option is exit 2, not a
  // failed cell per model.
  for (const auto& sj : cfg["strategies"]) {
    const std::string name = sj.get<std::string>();
    if (name == "base" || (cfg.contains("checkpoints") && cfg["checkpoints"].contains(name))) continue;
    const training::Strategy* s = nullptr;
    try {
      s = &training::find_strategy(name);
    } catch (const std::invalid_argument& e) {
      throw ConfigError("'strategies': " + std::string(e.what()));
    }
    if (!s->adapter && !s->prefix) continue;
    for (const auto& [mname, mcfg] : cfg["models"].items()) {
      const training::TrainOptions o = train_options(cfg, mcfg, name);
      model::LlavaConfig mc;
      try {
        mc = model::load_config(o.model_dir);
      } catch (const std::exception&) {
        continue;  // the model's own cell reports an unreadable config
      }
      try {
        training::check_specs(mc, *s, o.adapter, o.prefix);
      } catch (const std::invalid_argument& e) {
        std::string msg = e.what();  // "--adapter-reduction: ..." -> "'train.adapter_reduction' (model M): ..."
        const size_t colon = msg.find(':');
        std::string key = msg.substr(2, colon - 2);
        std::replace(key.begin(), key.end(), '-', '_');
        throw ConfigError("'train." + key + "' (strategy " + name + ", model " + mname + "):" + msg.substr(colon + 1));
      }
    }
  }
}

int run_matrix(const ordered_json& cfg, bool quiet, bool verbose) {
  check_strategies(cfg);
  training::install_counting_cpu_allocator();
  return MatrixRun(cfg, quiet, verbose).execute();
}

}  // namespace lnb::harness
