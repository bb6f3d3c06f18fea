// `lnbench demo`: the built-in default, the paper's whole pipeline on shapes world.
//
//   1. world      harness/demo/world.h, written once per spec (world.json stamps it)
//   2. base       harness/demo/base.h: tokenizer, contrastive CLIP tower, LLaMA on the corpus
//   3. stage 1    the connector aligned on the pretrain captions (plain template), merged
//                 into the "aligned" model: LLaVA's stage 1
//   4. stage 2    `lnbench run`'s matrix on the aligned model: every strategy trained on the
//                 instruction JSON, all five tasks evaluated, `base` = stage 1 only
//   5. night 2    the same matrix again under a second run id: nothing is redone
//                 (checkpoints by content, answers by their key), the report has two nights
//   6. report     leaderboard.csv + index.html, and demo.json: each strategy against the
//                 stage-1 baseline
// Every step is cached under --out and reused by the next run; a killed demo resumes
// (the matrix resumes sample by sample, trainings from their last checkpoint).
#include <chrono>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <ATen/Parallel.h>

#include "common/file_io.h"
#include "common/sha256.h"
#include "harness/cli.h"
#include "harness/demo/base.h"
#include "harness/demo/world.h"
#include "harness/run_config.h"
#include "harness/run_matrix.h"
#include "harness/torch_command.h"
#include "reports/leaderboard.h"
#include "reports/report.h"
#include "reports/results_store.h"
#include "training/checkpoint.h"
#include "training/distributed.h"
#include "training/trainer.h"

namespace lnb::harness {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

struct DemoSize {
  std::string name;
  demo::WorldSpec world;
  demo::BaseSpec base;
  int64_t stage1_steps, stage1_batch;
  double stage1_lr;
  int64_t stage2_epochs, stage2_batch;
  double stage2_lr;
  std::string stage2_strategy_lr;  // the paper tunes each strategy's rate; these are the demo's
  int64_t lora_rank;
  int64_t prefix_length;  // the world's prompts are ~50 positions: 30 virtual tokens would outnumber the image's 9
  std::vector<std::string> stage2_seeds = {};  // train.seeds: empty = the run's seed only
};

DemoSize demo_size(const std::string& name) {
  DemoSize d{name, demo::world_preset(name), demo::base_preset(name), 300, 32, 2e-3, 2, 16, 1e-3,
             "connector=2e-3,ln-simple=1e-2,ln=3e-3,lora=2e-3,attn-qv=2e-3,full=5e-4,adapter=2e-3,adapter+ln=2e-3,"
             "prefix=3e-3,prefix+ln=3e-3",
             8, 10};
  if (name == "test") {
    d.stage1_steps = 20;
    d.stage2_batch = 8;
    d.stage2_epochs = 1;
    d.stage2_seeds = {"42", "43"};  // the report's seed spread, tested end to end
  }
  return d;
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void say(bool quiet, const std::string& text) {
  if (!quiet) std::cerr << "[demo] " << text << "\n";
}

// The strategies of the paper's comparison, then Qi et al.'s two combination findings
// (adapter vs adapter+ln, prefix vs prefix+ln); `base` is the stage-1 model as it is.
const std::vector<std::string>& demo_strategies() {
  static const std::vector<std::string> k = {"base",    "connector",  "ln-simple", "ln",       "lora",     "attn-qv",
                                             "full",    "adapter",    "adapter+ln", "prefix", "prefix+ln"};
  return k;
}

// Qi et al. (2022): LN + prefix beat prefix alone; LN + an FFN adapter was worse than the
// adapter alone. Each pair: on how many headline tasks the combination scores higher.
struct Finding {
  const char* alone;
  const char* combined;
  const char* study;
};
const std::vector<Finding>& findings() {
  static const std::vector<Finding> k = {{"prefix", "prefix+ln", "prefix+ln better than prefix"},
                                         {"adapter", "adapter+ln", "adapter+ln worse than adapter"}};
  return k;
}

struct Headline {
  const char* task;
  const char* column;
};
const std::vector<Headline>& headlines() {
  static const std::vector<Headline> k = {{"mme", "mme_perception"},
                                          {"vqav2", "vqav2_accuracy"},
                                          {"coco", "coco_cider"},
                                          {"flickr30k", "flickr30k_cider"},
                                          {"pope", "pope_f1_mean"}};
  return k;
}

std::string fmt(const std::optional<double>& v, int precision) {
  if (!v) return "-";
  std::ostringstream o;
  o << std::fixed << std::setprecision(precision) << *v;
  return o.str();
}

// demo.json and the console table: each strategy's headline scores, trainable parameters
// and peak memory, and how many tasks it wins against the stage-1 baseline.
ordered_json summarize(const fs::path& results, const std::string& run_id, bool quiet) {
  const std::vector<reports::Run> runs = reports::read_store(results);
  std::vector<reports::Row> rows;
  for (const reports::Row& r : reports::build_rows(runs))
    if (r.run_id == run_id) rows.push_back(r);
  const auto value = [](const reports::Row& r, const char* col) { return r.values[reports::column_index(col)]; };
  const reports::Row* base = nullptr;
  for (const auto& r : rows)
    if (r.strategy == "base") base = &r;
  ordered_json cells = ordered_json::array();
  std::ostringstream table;
  table << std::left << std::setw(11) << "strategy" << std::right << std::setw(12) << "trainable" << std::setw(11) << "peak MiB";
  for (const auto& h : headlines()) table << std::setw(11) << h.task;
  table << "  wins vs stage 1\n";
  for (const std::string& s : demo_strategies()) {
    const reports::Row* row = nullptr;
    for (const auto& r : rows)
      if (r.strategy == s) row = &r;
    ordered_json cell = {{"strategy", s}};
    if (row == nullptr) {
      cell["status"] = "missing";
      cells.push_back(cell);
      table << std::left << std::setw(11) << s << "  (no results)\n";
      continue;
    }
    const auto trainable = value(*row, "trainable_params");
    const auto peak = value(*row, "peak_train_memory_bytes");
    cell["trainable_params"] = trainable ? ordered_json(static_cast<int64_t>(*trainable)) : ordered_json();
    cell["peak_train_memory_bytes"] = peak ? ordered_json(static_cast<int64_t>(*peak)) : ordered_json();
    table << std::left << std::setw(11) << s << std::right << std::setw(12) << (trainable ? fmt(trainable, 0) : "0")
          << std::setw(11) << (peak ? fmt(*peak / 1048576.0, 1) : "-");
    int wins = 0, compared = 0;
    ordered_json scores = ordered_json::object(), beats = ordered_json::object();
    for (const auto& h : headlines()) {
      const auto v = value(*row, h.column);
      scores[h.column] = v ? ordered_json(*v) : ordered_json();
      table << std::setw(11) << fmt(v, h.column[0] == 'c' || h.column[0] == 'f' ? 3 : 1);
      if (s != "base" && base != nullptr && v && value(*base, h.column)) {
        ++compared;
        const bool win = *v > *value(*base, h.column);
        beats[h.task] = win;
        wins += win ? 1 : 0;
      }
    }
    cell["scores"] = scores;
    if (s != "base") {
      cell["beats_stage1"] = beats;
      cell["wins"] = wins;
      cell["tasks_compared"] = compared;
      cell["beats_stage1_on_4_of_5"] = compared == 5 && wins >= 4;
      table << "  " << wins << "/" << compared;
    }
    table << "\n";
    cells.push_back(cell);
  }
  ordered_json verdicts = ordered_json::array();
  for (const Finding& f : findings()) {
    const reports::Row *alone = nullptr, *combined = nullptr;
    for (const auto& r : rows) {
      if (r.strategy == f.alone) alone = &r;
      if (r.strategy == f.combined) combined = &r;
    }
    if (alone == nullptr || combined == nullptr) continue;
    int higher = 0, compared = 0;
    ordered_json per_task = ordered_json::object();
    for (const auto& h : headlines()) {
      const auto a = value(*alone, h.column), c = value(*combined, h.column);
      if (!a || !c) continue;
      ++compared;
      higher += *c > *a ? 1 : 0;
      per_task[h.task] = *c - *a;
    }
    verdicts.push_back({{"study", f.study}, {"alone", f.alone}, {"combined", f.combined},
                        {"combined_higher_on", higher}, {"tasks_compared", compared}, {"difference", per_task}});
    table << f.combined << " scores above " << f.alone << " on " << higher << "/" << compared
          << " tasks (Qi et al. 2022: " << f.study << ")\n";
  }
  if (!quiet) std::cout << "\n" << table.str();
  return {{"run_id", run_id}, {"cells", cells}, {"combination_findings", verdicts}};
}

struct DemoArgs {
  fs::path out = "demo";
  std::string size = "default", run_id;
  bool quiet = false, verbose = false;
};

int run_demo(const DemoArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const DemoSize d = demo_size(a.size);
  const fs::path out = fs::absolute(a.out);
  const fs::path world = out / "world", base = out / "models" / "base", aligned = out / "models" / "aligned";
  fs::create_directories(out);
  ordered_json timing = ordered_json::object();

  // 1. world
  auto t = std::chrono::steady_clock::now();
  if (demo::world_is_current(d.world, world)) {
    say(a.quiet, "shapes world: cached in " + world.string());
    timing["world"] = {{"seconds", since(t)}, {"cached", true}};
  } else {
    say(a.quiet, "shapes world: drawing " + std::to_string(d.world.train_images) + " training images and five benchmarks");
    demo::generate_world(d.world, world);
    timing["world"] = {{"seconds", since(t)}, {"cached", false}};
  }

  // 2. base model
  t = std::chrono::steady_clock::now();
  if (demo::base_is_current(d.base, world, base)) {
    say(a.quiet, "base model: cached in " + base.string());
    timing["base_model"] = {{"seconds", since(t)}, {"cached", true}};
  } else {
    say(a.quiet, "base model: tokenizer, contrastive vision tower, language model");
    fs::remove_all(out / "models" / "stage1");  // its resumable training is stale with a new base
    Progress bar(a.quiet, "base model", "base_step", "step");
    std::string phase;
    auto tp = std::chrono::steady_clock::now();
    demo::build_base_model(d.base, world, base, [&](const std::string& p, int64_t step, int64_t total, double loss) {
      if (p != phase) {
        phase = p;
        tp = std::chrono::steady_clock::now();
        bar = Progress(a.quiet, "base model: " + p, "base_step", "step");
      }
      char text[48];
      std::snprintf(text, sizeof text, "loss %.4f", loss);
      bar.update(step, total, since(tp), text, {{"phase", p}, {"loss", loss}});
    });
    timing["base_model"] = {{"seconds", since(t)}, {"cached", false}};
  }

  // 3. stage 1: connector alignment on the captions, merged into the aligned model
  t = std::chrono::steady_clock::now();
  const fs::path stage1 = out / "models" / "stage1";
  const std::string stage1_key = common::sha256_hex(common::read_file(base / "lnbench_base.json") +
                                                    std::to_string(d.stage1_steps) + "/" + std::to_string(d.stage1_batch) +
                                                    "/" + std::to_string(d.stage1_lr));
  if (demo::stamp_matches(aligned / "lnbench_stage1.json", "key", stage1_key)) {
    say(a.quiet, "stage 1: cached in " + aligned.string());
    timing["stage1"] = {{"seconds", since(t)}, {"cached", true}};
  } else {
    say(a.quiet, "stage 1: aligning the connector on image captions");
    training::TrainOptions o;
    o.model_dir = base;
    o.strategy = "connector";
    o.template_name = "plain";
    o.data_file = world / "train/llava_pretrain.json";
    o.image_dir = world;
    o.out_dir = stage1;
    o.optim.lr = d.stage1_lr;
    o.max_steps = d.stage1_steps;
    o.epochs = 100;
    o.batch_size = d.stage1_batch;
    o.peft_adapter = false;
    training::Dist dist(training::DistEnv{}, c10::Device(c10::kCPU));
    StepProgress progress(a.quiet, "stage 1 (connector)");
    training::train(o, dist, std::ref(progress));
    fs::remove_all(aligned);
    training::merge_checkpoint(base, stage1 / "checkpoint", aligned);
    common::write_file_atomic(aligned / "lnbench_stage1.json",
                              ordered_json({{"schema", "lnbench.demo_stage1/1"}, {"key", stage1_key}}).dump(2) + "\n");
    timing["stage1"] = {{"seconds", since(t)}, {"cached", false}};
  }

  // 4. stage 2 and evaluation: the run matrix
  t = std::chrono::steady_clock::now();
  const std::string run_id = a.run_id.empty() ? "demo-" + d.name : a.run_id;
  ordered_json tasks = {{"mme", {{"data", (world / "mme").string()}, {"split", "existence,count,position,color"}}},
                        {"vqav2", {{"data", (world / "vqav2").string()}}},
                        {"coco", {{"data", (world / "coco").string()}}},
                        {"flickr30k", {{"data", (world / "flickr30k").string()}}},
                        {"pope", {{"data", (world / "pope").string()}}}};
  const ordered_json file = {
      {"run_id", run_id},
      {"results", (out / "results").string()},
      {"device", "cpu"},
      {"dtype", "fp32"},
      {"models", {{"shapes", {{"path", aligned.string()}}}}},
      {"strategies", demo_strategies()},
      {"tasks", tasks},
      {"train",
       {{"data", (world / "train/llava_instruct.json").string()},
        {"images", world.string()},
        {"lr", d.stage2_lr},
        {"strategy_lr", d.stage2_strategy_lr},
        {"epochs", d.stage2_epochs},
        {"batch_size", d.stage2_batch},
        {"lora_rank", d.lora_rank},
        {"lora_alpha", 2.0 * static_cast<double>(d.lora_rank)},
        {"prefix_length", d.prefix_length},
        {"seeds", d.stage2_seeds}}},
      {"eval", {{"batch_size", 16}, {"feature_cache", (out / "cache" / "features").string()}, {"batch_check", 2}}}};
  const ordered_json config = resolve_run_config(file, {}, "lnbench demo", out);
  common::write_file_atomic(out / "demo-run.json", config.dump(2) + "\n");
  say(a.quiet, "stage 2: " + std::to_string(demo_strategies().size() - 1) + " strategies x 5 tasks (results in " +
                   (out / "results" / run_id).string() + ")");
  int matrix_rc = run_matrix(config, a.quiet, a.verbose);
  timing["stage2_and_eval"] = {{"seconds", since(t)}};
  // A second night of the same config, as a nightly job would run it: the checkpoints are
  // found by content and every answer is taken from the first night under its answers key
  // (reuse_answers), so it costs seconds, and the report has two nights to trend and to
  // compare (nothing changed, so nothing regresses).
  t = std::chrono::steady_clock::now();
  ordered_json night2 = file;
  night2["run_id"] = run_id + "-night2";
  const ordered_json config2 = resolve_run_config(night2, {}, "lnbench demo", out);
  say(a.quiet, "night 2: the same matrix again (results in " + (out / "results" / (run_id + "-night2")).string() + ")");
  matrix_rc = std::max(matrix_rc, run_matrix(config2, a.quiet, a.verbose));
  timing["night2"] = {{"seconds", since(t)}};

  // 5. report and the verdict
  t = std::chrono::steady_clock::now();
  reports::ReportOptions ro;
  ro.root = out / "results";
  ro.out = out / "report";
  ro.baseline_run_id = "";
  reports::write_report(ro);
  ordered_json summary = summarize(out / "results", run_id + "-night2", a.quiet);
  timing["report"] = {{"seconds", since(t)}};
  timing["total_seconds"] = since(t0);
  summary["schema"] = "lnbench.demo/1";
  summary["size"] = d.name;
  summary["timing"] = timing;
  summary["matrix_exit_code"] = matrix_rc;
  common::write_file_atomic(out / "demo.json", summary.dump(2) + "\n");
  say(a.quiet, "report: " + (out / "report" / "index.html").string() + "  (" + std::to_string(static_cast<int>(since(t0))) +
                   " s in all)");
  return matrix_rc;
}

}  // namespace

void register_demo(CLI::App& app, int& exit_code) {
  static DemoArgs a;
  CLI::App* cmd = app.add_subcommand("demo", "The built-in default: the whole pipeline on shapes world");
  cmd->add_option("--out", a.out, "Folder for the world, models, caches, results and report (default ./demo; reused by the next run)");
  cmd->add_option("--size", a.size, "default (the demo) | test (the reduced demo of the test suite)")
      ->check(CLI::IsMember({"default", "test"}));
  cmd->add_option("--run-id", a.run_id, "Results run id (default demo-SIZE: a rerun resumes it)");
  cmd->add_flag("--quiet", a.quiet, "Only errors");
  cmd->add_flag("--verbose", a.verbose, "Each task's eval report too");
  cmd->callback([&exit_code] {
    try {
      exit_code = run_demo(a);
    } catch (const std::exception& e) {
      std::cerr << "lnbench demo: " << e.what() << "\n";
      exit_code = exit_code_for(e);
    }
  });
}

}  // namespace lnb::harness
