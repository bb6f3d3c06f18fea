// `lnbench run` and `lnbench eval` end to end on the tiny HF model (tests/model/hf_oracle.py)
// and the fixture benchmarks (tests/data/tasks/fixture, images drawn with OpenCV):
// the results store, checkpoint reuse, delta swapping against standalone evaluation,
// the vision-feature cache across nights, failing cells, resume after SIGKILL at random
// points, and two ranks on loopback against one.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "model/safetensors.h"
#include "tests/harness/run_lnbench.h"
#include "tests/tasks/task_fixture.h"
#include "tests/training/train_fixture.h"

namespace lnb::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A config over pope (18 requests) and mme (limited), training ln and lora for 2 steps.
fs::path write_config(const fs::path& dir, const fs::path& bench, const json& strategies, const json& extra = json::object()) {
  json cfg = {{"run_id", "night"},
              {"results", (dir / "results").string()},
              {"models", {{"tiny", {{"path", tiny_model().string()}}}}},
              {"strategies", strategies},
              {"tasks", {{"pope", {{"data", (bench / "pope").string()}}}, {"mme", {{"data", (bench / "mme").string()}, {"limit", 10}}}}},
              {"train", {{"data", write_tiny_data(dir / "train").string()}, {"images", tiny_images().string()}, {"max_steps", 2},
                         {"batch_size", 2}, {"lr", 1e-2}, {"lora_rank", 4}, {"warmup_ratio", 0.0}}},
              {"eval", {{"batch_size", 4}, {"feature_cache", (dir / "features").string()}}}};
  cfg.merge_patch(extra);
  const fs::path f = dir / "cfg.json";
  std::ofstream(f) << cfg.dump(1);
  return f;
}

std::map<std::string, std::string> answers_of(const fs::path& samples) {
  std::map<std::string, std::string> out;
  std::istringstream in(read_file(samples));
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line);
    EXPECT_TRUE(out.emplace(j["id"], j["answer"]).second) << "duplicate " << j["id"] << " in " << samples;
  }
  return out;
}

// Every metrics.json under a run, by path relative to the run folder.
std::map<std::string, std::string> metrics_files(const fs::path& run) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(run))
    if (e.path().filename() == "metrics.json") out[fs::relative(e.path(), run).string()] = read_file(e.path());
  return out;
}

TEST(Run, MatrixWritesTheStoreReusesCheckpointsAndSwapsDeltasExactly) {
  const FixtureCopy bench;
  const fs::path d = temp_dir("lnb_run_matrix");
  // base sits between two deltas: its answers prove the swap restored the base exactly,
  // after a LoRA delta folded into the weights (eval.fold_lora).
  const fs::path cfg = write_config(d, bench.root(), {"lora", "base", "ln"});
  Result r = run_lnbench("run " + cfg.string() + " --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  const fs::path run = d / "results" / "night";
  const json rj = read_json(run / "run.json");
  EXPECT_EQ(rj["schema"], "lnbench.run/1");
  EXPECT_EQ(rj["status"], "ok");
  EXPECT_EQ(rj["cells"].size(), 3u);
  EXPECT_EQ(rj["config"]["eval"]["batch_size"], 4);  // the resolved config is echoed
  EXPECT_FALSE(rj["versions"]["torch"].get<std::string>().empty());
  for (const char* s : {"ln", "base", "lora"})
    for (const char* t : {"pope", "mme"}) {
      SCOPED_TRACE(std::string(s) + "/" + t);
      const fs::path cell = run / "tiny" / s / t;
      const json m = read_json(cell / "metrics.json");
      EXPECT_EQ(m["schema"], "lnbench.metrics/1");
      const auto answers = answers_of(cell / "samples.jsonl");
      EXPECT_EQ(answers.size(), m["n_samples"].get<size_t>());
      const json e = read_json(cell / "eval.json");
      EXPECT_EQ(e["batch_check"]["mismatches"].size(), 0u) << e.dump();
      EXPECT_GT(e["samples_per_s"].get<double>(), 0);
      EXPECT_FALSE(fs::exists(cell / "samples.rank1.jsonl"));
    }
  const json tj = read_json(run / "tiny" / "ln" / "train.json");
  EXPECT_GT(tj["trainable_params"].get<int64_t>(), 0);
  EXPECT_EQ(tj["reused"], false);

  // Standalone `lnbench eval` of the base and of the ln and lora checkpoints gives the same answers.
  const fs::path ln_ckpt = tj["checkpoint"].get<std::string>();
  const fs::path lora_ckpt = read_json(run / "tiny" / "lora" / "train.json")["checkpoint"].get<std::string>();
  for (const auto& [strategy, extra] : std::map<std::string, std::string>{
           {"base", ""}, {"ln", " --checkpoint " + ln_ckpt.string()}, {"lora", " --checkpoint " + lora_ckpt.string()}}) {
    const fs::path out = d / ("alone_" + strategy);
    r = run_lnbench("eval --model " + tiny_model().string() + extra + " --task pope --data " + (bench.root() / "pope").string() +
                    " --out " + out.string() + " --batch-size 4 --feature-cache off --quiet");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(answers_of(out / "samples.jsonl"), answers_of(run / "tiny" / strategy / "pope" / "samples.jsonl")) << strategy;
    EXPECT_EQ(read_file(out / "metrics.json"), read_file(run / "tiny" / strategy / "pope" / "metrics.json")) << strategy;
  }
  // The trained delta changed something: ln's answers or metrics differ from base's, or
  // at least its checkpoint holds non-empty tensors (tiny random models may agree).
  EXPECT_TRUE(fs::file_size(ln_ckpt / "model.safetensors") > 0);

  // Rerunning the same command: nothing redone, metrics untouched.
  const auto before = metrics_files(run);
  r = run_lnbench("run " + cfg.string() + " --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(metrics_files(run), before);
  const json rj2 = read_json(run / "run.json");
  EXPECT_EQ(rj2["attempts"], 2);
  EXPECT_EQ(rj2["date"], rj["date"]);
  for (const json& p : rj2["phases"]) {
    if (p["phase"] == "train") {
      EXPECT_EQ(p["reused"], true) << p.dump();
    }
  }

  // Another night (new run id) decoding again (reuse_answers off): checkpoints reused by
  // content, features read from disk.
  r = run_lnbench("run " + cfg.string() + " --quiet --run-id night2 --set reuse_answers=false");
  ASSERT_EQ(r.code, 0) << r.out;
  // The first cell of the night reads the features from disk; the later ones from memory.
  const json e2 = read_json(d / "results" / "night2" / "tiny" / "lora" / "pope" / "eval.json");
  EXPECT_EQ(e2["feature_cache"]["computed"], 0) << e2.dump();
  EXPECT_GT(e2["feature_cache"]["disk_hits"].get<int64_t>(), 0) << e2.dump();
  EXPECT_EQ(read_json(d / "results" / "night2" / "tiny" / "lora" / "train.json")["reused"], true);
  EXPECT_EQ(metrics_files(d / "results" / "night2"), before);
  EXPECT_FALSE(e2.contains("reused_from"));

  // A third night with answer reuse (the default): every task is copied from an earlier
  // night answered under the same key, nothing decoded; the same samples and metrics.
  r = run_lnbench("run " + cfg.string() + " --quiet --run-id night3");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(metrics_files(d / "results" / "night3"), before);
  for (const char* s : {"ln", "base", "lora"})
    for (const char* t : {"pope", "mme"}) {
      SCOPED_TRACE(std::string("night3 ") + s + "/" + t);
      const fs::path cell = d / "results" / "night3" / "tiny" / s / t;
      const json e = read_json(cell / "eval.json");
      ASSERT_TRUE(e.contains("reused_from")) << e.dump();
      const fs::path from = e["reused_from"].get<std::string>();
      EXPECT_EQ(read_file(from / "answers.key"), read_file(cell / "answers.key"));
      EXPECT_EQ(read_file(cell / "samples.jsonl"), read_file(run / "tiny" / s / t / "samples.jsonl"));
      EXPECT_TRUE(fs::exists(cell / "submission"));
    }
  const json rj3 = read_json(d / "results" / "night3" / "run.json");
  for (const json& p : rj3["phases"])
    if (p["phase"] == "eval") {
      EXPECT_TRUE(p["eval"].contains("reused_from")) << p.dump();
    }
  // The build is named by the GNU build ids of lnbench and its plugin, as readelf reads them
  // from the files (the linker's hash of each output).
  auto build_id = [](const fs::path& elf) {
    const std::string out = lnb::test::run_command("readelf -n " + elf.string()).out;
    const size_t at = out.find("Build ID: ");
    return at == std::string::npos ? std::string() : out.substr(at + 10, out.find('\n', at) - at - 10);
  };
  const fs::path exe = fs::canonical(LNB_EXE);
  const std::string exe_id = build_id(exe), plugin_id = build_id(exe.parent_path().parent_path() / "lib" / "liblnbench_torch.so");
  ASSERT_EQ(exe_id.size(), 40u) << "lnbench linked without --build-id=sha1";
  ASSERT_EQ(plugin_id.size(), 40u);
  EXPECT_EQ(read_json(run / "tiny" / "ln" / "pope" / "eval.json")["build"],
            lnb::common::sha256_hex("build-id " + exe_id + "\nbuild-id " + plugin_id + "\n"));
  // Answers made by another build are never reused: a night after a code change decodes again.
  for (const char* night : {"night", "night2", "night3"}) {
    const fs::path e = d / "results" / night / "tiny" / "ln" / "pope" / "eval.json";
    json j = read_json(e);
    EXPECT_EQ(j["build"].get<std::string>().size(), 64u);
    j["build"] = "another-build";
    std::ofstream(e) << j.dump();
  }
  r = run_lnbench("run " + cfg.string() + " --quiet --run-id night5");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_FALSE(read_json(d / "results" / "night5" / "tiny" / "ln" / "pope" / "eval.json").contains("reused_from"));
  EXPECT_TRUE(read_json(d / "results" / "night5" / "tiny" / "ln" / "mme" / "eval.json").contains("reused_from"));
  EXPECT_EQ(answers_of(d / "results" / "night5" / "tiny" / "ln" / "pope" / "samples.jsonl"),
            answers_of(run / "tiny" / "ln" / "pope" / "samples.jsonl"));
  // Another batch size is another answers key: decoded, not reused.
  r = run_lnbench("run " + cfg.string() + " --quiet --run-id night4 --set eval.batch_size=2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_FALSE(read_json(d / "results" / "night4" / "tiny" / "ln" / "pope" / "eval.json").contains("reused_from"));

  // The report reads the store, eval throughput included.
  r = run_lnbench("report " + (d / "results").string() + " --out " + (d / "report").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(read_file(d / "report" / "leaderboard.csv").find("night2,"), std::string::npos);
  fs::remove_all(d);
}

TEST(Run, AFailingCellIsRecordedAndTheOthersFinish) {
  const FixtureCopy bench;
  const fs::path d = temp_dir("lnb_run_fail");
  // An unknown strategy is a config error: refused before anything trains or evaluates.
  const fs::path bad = write_config(d, bench.root(), {"base", "bogus"});
  const Result refused = run_lnbench("run " + bad.string() + " --quiet");
  EXPECT_EQ(refused.code, 2) << refused.out;
  EXPECT_NE(refused.out.find("'strategies': unknown strategy 'bogus'"), std::string::npos) << refused.out;
  EXPECT_FALSE(fs::exists(d / "results" / "night" / "run.json"));
  // A cell that fails while it runs (its training data is malformed) fails alone.
  std::ofstream(d / "broken.json") << R"([{"id": "x", "conversations": 7}])";
  const fs::path cfg = write_config(d, bench.root(), {"base", "ln"},
                                    {{"tasks", {{"vqav2", {{"data", (d / "missing").string()}}}}},
                                     {"train", {{"data", (d / "broken.json").string()}}}});
  const Result r = run_lnbench("run " + cfg.string() + " --quiet");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("broken.json"), std::string::npos) << r.out;
  const fs::path run = d / "results" / "night";
  const json rj = read_json(run / "run.json");
  EXPECT_EQ(rj["status"], "failed");
  std::map<std::string, json> cells;
  for (const json& c : rj["cells"]) cells[c["strategy"]] = c;
  EXPECT_EQ(cells.at("ln")["status"], "failed");
  EXPECT_NE(cells.at("ln")["error"].get<std::string>().find("broken.json"), std::string::npos) << cells.at("ln");
  EXPECT_EQ(cells.at("base")["tasks"]["pope"], "ok");
  EXPECT_TRUE(cells.at("base")["tasks"]["vqav2"].contains("error"));
  EXPECT_TRUE(fs::exists(run / "tiny" / "base" / "pope" / "metrics.json"));
  EXPECT_TRUE(fs::exists(run / "tiny" / "base" / "mme" / "metrics.json"));
  fs::remove_all(d);
}

TEST(Run, AnswersFromAnotherIdentityAreMovedAsideNotResumed) {
  const FixtureCopy bench;
  const fs::path d = temp_dir("lnb_run_identity");
  const fs::path cfg = write_config(d, bench.root(), {"base"});
  ASSERT_EQ(run_lnbench("run " + cfg.string() + " --quiet").code, 0);
  const fs::path pope = d / "results" / "night" / "tiny" / "base" / "pope";
  const std::string key = read_file(pope / "answers.key");
  const std::string samples = read_file(pope / "samples.jsonl");
  // Same run id, another batch size: the batch plan (and so the answers) may differ.
  // --set before the positional CONFIG takes one value, not the config file.
  const Result r = run_lnbench("run --set eval.batch_size=3 " + cfg.string() + " --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("moved to"), std::string::npos) << r.out;
  EXPECT_NE(read_file(pope / "answers.key"), key);
  EXPECT_EQ(read_file(pope / "stale-1" / "samples.jsonl"), samples);  // kept, not deleted
  EXPECT_EQ(read_json(pope / "eval.json")["resumed"], 0);
  EXPECT_EQ(read_json(pope / "eval.json")["batch_size"], 3);
  EXPECT_TRUE(fs::exists(pope / "metrics.json"));
  fs::remove_all(d);
}

// Prefix sharing through the whole command: the answers and metrics of the unshared
// engine, each distinct prefix computed once and each request's own suffix once (the
// minimum, up to padding), the engine settings from the run config's declarations.
TEST(Eval, PrefixSharingGivesTheUnsharedAnswersAndCountsWhatItReused) {
  const FixtureCopy bench;
  const fs::path d = temp_dir("lnb_eval_prefix");
  const std::string base = "eval --model " + tiny_model().string() + " --task pope --data " + (bench.root() / "pope").string() +
                           " --batch-size 4 --feature-cache off --quiet --max-new-tokens 3";
  Result r = run_lnbench(base + " --vision-batch 3 --out " + (d / "shared").string());
  ASSERT_EQ(r.code, 0) << r.out;
  // The slow twin: no sharing, and the vision tower one image at a time.
  r = run_lnbench(base + " --prefix-sharing off --vision-batch 1 --out " + (d / "unshared").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(answers_of(d / "shared" / "samples.jsonl"), answers_of(d / "unshared" / "samples.jsonl"));
  EXPECT_EQ(read_file(d / "shared" / "metrics.json"), read_file(d / "unshared" / "metrics.json"));
  const json on = read_json(d / "shared" / "eval.json"), off = read_json(d / "unshared" / "eval.json");
  const json& p = on["prefill"];
  EXPECT_GT(p["prefix_positions_reused"].get<int64_t>(), 0) << on.dump();
  EXPECT_EQ(p["positions_computed"].get<int64_t>() - p["padding_positions"].get<int64_t>(), p["minimum_positions"].get<int64_t>())
      << on.dump();
  EXPECT_LT(p["positions_computed"].get<int64_t>(), off["prefill"]["positions_computed"].get<int64_t>());
  EXPECT_EQ(off["prefill"]["prefix_positions_reused"], 0);
  EXPECT_EQ(off["prefill"]["positions_computed"], off["prefill"]["unshared_positions"]) << off.dump();
  EXPECT_EQ(on["prefill"]["unshared_positions"], off["prefill"]["unshared_positions"]);
  EXPECT_GT(on["prefix_sharing"]["nodes"].get<int64_t>(), 1);  // the task's text prefix and the images'
  EXPECT_EQ(on["prefix_sharing"]["peak_bytes"].get<int64_t>() > 0, true);
  EXPECT_EQ(on["feature_cache"]["computed"], 6);  // 6 images, each through the tower once, in batches
  // --max-new-tokens reaches the task: at most 2 decode steps per batch of 4 (18 requests).
  EXPECT_LE(on["decode"]["steps"].get<int64_t>(), 5 * 2) << on.dump();
  EXPECT_EQ(on["decode"]["cuda_graphs"], false);
  EXPECT_EQ(on["batch_check"]["checked"], 4);
  EXPECT_EQ(on["batch_check"]["mismatches"].size(), 0u) << on.dump();  // batched+shared vs batch 1 unshared

  // Bad settings: the run config's messages, exit 2; a context overflow names the request.
  r = run_lnbench(base + " --prefix-cache-mb 0 --out " + (d / "bad").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("'eval.prefix_cache_mb': expected a value >= 1"), std::string::npos) << r.out;
  r = run_lnbench("eval --model " + tiny_model().string() + " --task pope --data " + (bench.root() / "pope").string() +
                  " --feature-cache off --quiet --max-new-tokens 5000 --out " + (d / "long").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("max_position_embeddings"), std::string::npos) << r.out;
  fs::remove_all(d);
}

size_t lines_in(const fs::path& f) {
  const std::string t = read_file(f);
  return static_cast<size_t>(std::count(t.begin(), t.end(), '\n'));
}

// Sampled decoding (eval.temperature > 0): each request draws from (seed, its id, the
// step), so the kill and two-rank tests below run sampled and still must match exactly.
const json kSampled = {{"eval", {{"temperature", 0.9}, {"top_k", 30}, {"top_p", 0.95}, {"seed", 11}}}};

TEST(Run, ResumeAfterSigkillAtRandomPointsEndsIdenticalWithNoDuplicatedOrLostSample) {
  const FixtureCopy bench;
  const fs::path d = temp_dir("lnb_run_kill");
  const json strategies = {"base", "ln"};
  const fs::path ref_cfg = write_config(d / "ref", bench.root(), strategies, kSampled);
  ASSERT_EQ(run_lnbench("run " + ref_cfg.string() + " --quiet").code, 0);
  const auto reference = metrics_files(d / "ref" / "results" / "night");
  ASSERT_EQ(reference.size(), 4u);

  // Kill points are progress events (one JSON line per training step or answered batch)
  // plus a random delay, so they land in training, in answering and in between whatever
  // the machine's load; each restart resumes and moves on.
  const fs::path cfg = write_config(d / "killed", bench.root(), strategies, kSampled);
  std::mt19937 rng(20261123);
  std::uniform_int_distribution<int> events(1, 6), delay_us(0, 30000);
  int kills = 0, kills_while_answering = 0;
  // Until six kills, two of them while answering (kills early in an attempt can land in
  // training or between tasks; the load of the machine decides how many do).
  for (int attempt = 0; attempt < 40 && (kills < 6 || kills_while_answering < 2); ++attempt) {
    const fs::path log = d / ("attempt" + std::to_string(attempt) + ".log");
    const size_t target = static_cast<size_t>(events(rng));
    const pid_t pid = lnb::test::spawn(std::string(LNB_EXE) + " run " + cfg.string(), log.string());
    int status = 0;
    bool exited = false;
    while (!(exited = waitpid(pid, &status, WNOHANG) == pid) && lines_in(log) < target)
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    if (exited) break;  // finished before the kill point: the run is complete
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ++kills;
    kills_while_answering += read_file(log).find("eval_progress") != std::string::npos ? 1 : 0;
  }
  EXPECT_GE(kills, 3);
  EXPECT_GE(kills_while_answering, 1);
  const Result r = run_lnbench("run " + cfg.string() + " --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  const fs::path run = d / "killed" / "results" / "night";
  EXPECT_EQ(metrics_files(run), reference);
  int64_t resumed = 0;  // answers a restarted attempt found on disk
  for (const char* s : {"base", "ln"})
    for (const char* t : {"pope", "mme"}) {
      const auto got = answers_of(run / "tiny" / s / t / "samples.jsonl");  // fails on a duplicate
      EXPECT_EQ(got, answers_of(d / "ref" / "results" / "night" / "tiny" / s / t / "samples.jsonl")) << s << "/" << t;
      resumed += read_json(run / "tiny" / s / t / "eval.json")["resumed"].get<int64_t>();
    }
  EXPECT_GT(resumed, 0) << "no kill left a task partly answered";
  fs::remove_all(d);
}

// A sampled answer is the request's own: the same at batch 1 as at batch 4, different
// from greedy, recorded in eval.json; an out-of-range sampling option is refused by name.
TEST(Run, SampledAnswersAreTheSameAtBatchOneAndRecordTheirDecoding) {
  const FixtureCopy bench;
  const fs::path d = temp_dir("lnb_run_sampled");
  const json strategies = {"base"};
  const fs::path b4 = write_config(d / "b4", bench.root(), strategies, kSampled);
  json one = kSampled;
  one["eval"]["batch_size"] = 1;
  const fs::path b1 = write_config(d / "b1", bench.root(), strategies, one);
  const fs::path greedy = write_config(d / "greedy", bench.root(), strategies);
  for (const fs::path& c : {b4, b1, greedy}) ASSERT_EQ(run_lnbench("run " + c.string() + " --quiet").code, 0) << c;
  auto cell = [&](const char* which, const char* task) { return d / which / "results" / "night" / "tiny" / "base" / task; };
  int differ = 0;
  for (const char* t : {"pope", "mme"}) {
    SCOPED_TRACE(t);
    const auto a = answers_of(cell("b4", t) / "samples.jsonl");
    EXPECT_EQ(a, answers_of(cell("b1", t) / "samples.jsonl"));
    differ += a != answers_of(cell("greedy", t) / "samples.jsonl");
    const json e = read_json(cell("b4", t) / "eval.json");
    EXPECT_EQ(e["decoding"]["mode"], "sample");
    EXPECT_EQ(e["decoding"]["top_k"], 30);
    EXPECT_EQ(read_json(cell("greedy", t) / "eval.json")["decoding"]["mode"], "greedy");
  }
  EXPECT_GE(differ, 1) << "sampling changed no answer";
  const Result bad = run_lnbench("run " + b4.string() + " --quiet --set eval.top_p=1.5");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("eval.top_p"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("[1e-06, 1]"), std::string::npos) << bad.out;
  fs::remove_all(d);
}

TEST(Run, TwoRanksOnLoopbackWriteByteIdenticalMetricsToOne) {
  const FixtureCopy bench;
  const fs::path d = temp_dir("lnb_run_dist");
  const json strategies = {"base", "ln"};
  // Both runs share the checkpoint store: the two-rank run evaluates the same ln delta.
  json shared = {{"train", {{"checkpoints", (d / "checkpoints").string()}}}};
  shared.merge_patch(kSampled);
  const fs::path one = write_config(d / "one", bench.root(), strategies, shared);
  ASSERT_EQ(run_lnbench("run " + one.string() + " --quiet").code, 0);
  const fs::path two = write_config(d / "two", bench.root(), strategies, shared);
  std::mt19937 rng(std::random_device{}());
  const int port = 20000 + static_cast<int>(rng() % 20000);
  // As torchrun does for several processes per node: one OpenMP thread each.
  const std::string env = "OMP_NUM_THREADS=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port);
  const std::string cmd = std::string(LNB_EXE) + " run " + two.string() + " --quiet";
  const std::string script = "RANK=0 LOCAL_RANK=0 " + env + " " + cmd + " > " + (d / "rank0.log").string() + " 2>&1 & p=$!; " +
                             "RANK=1 LOCAL_RANK=1 " + env + " " + cmd + " > " + (d / "rank1.log").string() +
                             " 2>&1; r1=$?; wait $p; r0=$?; exit $((r0 | r1))";
  ASSERT_EQ(std::system(("sh -c '" + script + "'").c_str()), 0) << read_file(d / "rank0.log") << read_file(d / "rank1.log");
  const auto a = metrics_files(d / "one" / "results" / "night");
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(metrics_files(d / "two" / "results" / "night"), a);
  const json e = read_json(d / "two" / "results" / "night" / "tiny" / "base" / "pope" / "eval.json");
  EXPECT_EQ(e["world_size"], 2);
  EXPECT_EQ(read_json(d / "two" / "results" / "night" / "run.json")["device"]["world_size"], 2);
  for (const char* s : {"base", "ln"})
    for (const char* t : {"pope", "mme"})
      EXPECT_EQ(read_file(d / "two" / "results" / "night" / "tiny" / s / t / "samples.jsonl"),
                read_file(d / "one" / "results" / "night" / "tiny" / s / t / "samples.jsonl"))
          << s << "/" << t;
  fs::remove_all(d);
}

// Checkpoints trained elsewhere, one of each kind, are strategies of one run: a PEFT
// LoRA and a PEFT LN-tuning adapter (saved by PEFT), a LLaVA LoRA release folder (saved
// as LLaVA's train.py saves one) and a full fine-tune (saved by transformers), swapped
// over the one resident base. Each cell answers as `lnbench eval --checkpoint` does
// alone, holds the checkpoint's own parameter count, and reaches the report.
TEST(Run, CheckpointsTrainedElsewhereAreStrategiesOfOneRun) {
  const FixtureCopy bench;
  const fs::path d = temp_dir("lnb_run_external");
  const std::string base = tiny_model().string();
  for (const auto& [args, what] : std::map<std::string, std::string>{
           {"peft_make lora " + base + " " + (d / "peft-lora").string() + " " + (d / "peft-lora.ref").string(), "lora"},
           {"peft_make ln " + base + " " + (d / "peft-ln").string() + " " + (d / "peft-ln.ref").string(), "ln"},
           {"llava_make " + base + " " + (d / "llava-lora").string() + " " + (d / "llava-lora.ref").string(), "llava"},
           {"full_make " + base + " " + (d / "full-ft").string() + " " + (d / "full-ft.ref").string(), "full"}})
    ASSERT_EQ(run_oracle(args, d / (what + ".log")), "") << what;
  json checkpoints = json::object();
  for (const char* c : {"peft-lora", "peft-ln", "llava-lora", "full-ft"}) checkpoints[c] = {{"path", (d / c).string()}};
  const fs::path cfg = write_config(d, bench.root(), {"base"}, {{"checkpoints", checkpoints}});
  Result r = run_lnbench("run " + cfg.string() + " --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  const fs::path run = d / "results" / "night";
  const json rj = read_json(run / "run.json");
  EXPECT_EQ(rj["status"], "ok");
  EXPECT_EQ(rj["cells"].size(), 5u);

  auto elements_of = [](const fs::path& file) {
    const model::SafetensorsFile f(file);
    int64_t n = 0;
    for (const std::string& k : f.names()) n += f.tensor(k).numel();
    return n;
  };
  const std::map<std::string, std::pair<std::string, int64_t>> expected = {
      {"peft-lora", {"peft", elements_of(d / "peft-lora" / "adapter_model.safetensors")}},
      {"peft-ln", {"peft", elements_of(d / "peft-ln" / "adapter_model.safetensors")}},
      {"llava-lora", {"llava-lora", model::SafetensorsFile(d / "llava-lora.ref").tensor("peft_trainable").item<int64_t>()}},
      {"full-ft", {"full", model::SafetensorsFile(d / "full-ft.ref").tensor("moved").item<int64_t>()}}};
  const std::string base_metrics = read_file(run / "tiny" / "base" / "pope" / "metrics.json");
  bool any_differs = false;
  for (const auto& [name, want] : expected) {
    SCOPED_TRACE(name);
    const json info = read_json(run / "tiny" / name / "checkpoint.json");
    EXPECT_EQ(info["kind"], want.first);
    EXPECT_EQ(info["trainable_params"].get<int64_t>(), want.second);
    EXPECT_GT(info["total_params"].get<int64_t>(), info["trainable_params"].get<int64_t>());
    const fs::path out = d / ("alone_" + name);
    r = run_lnbench("eval --model " + base + " --checkpoint " + (d / name).string() + " --task pope --data " +
                    (bench.root() / "pope").string() + " --out " + out.string() + " --batch-size 4 --feature-cache off --quiet");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(answers_of(out / "samples.jsonl"), answers_of(run / "tiny" / name / "pope" / "samples.jsonl"));
    EXPECT_EQ(read_file(out / "metrics.json"), read_file(run / "tiny" / name / "pope" / "metrics.json"));
    any_differs = any_differs || read_file(out / "samples.jsonl") != read_file(run / "tiny" / "base" / "pope" / "samples.jsonl");
  }
  EXPECT_TRUE(any_differs);  // the checkpoints change answers: applying none would fail here
  EXPECT_EQ(read_file(run / "tiny" / "base" / "pope" / "metrics.json"), base_metrics);

  r = run_lnbench("report " + (d / "results").string() + " --out " + (d / "report").string());
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string csv = read_file(d / "report" / "leaderboard.csv");
  EXPECT_NE(read_file(d / "report" / "index.html").find("llava-lora <small title=\"checkpoint trained elsewhere\">(llava-lora)"),
            std::string::npos);
  for (const auto& [name, want] : expected) {
    EXPECT_NE(csv.find("," + name + ","), std::string::npos) << name << "\n" << csv;
    EXPECT_NE(csv.find("," + std::to_string(want.second) + ","), std::string::npos) << name << "\n" << csv;
  }

  // A name that shadows a strategy, and a checkpoint that is not there.
  const fs::path shadow = write_config(d, bench.root(), {"base"}, {{"checkpoints", {{"ln", {{"path", (d / "peft-ln").string()}}}}}});
  r = run_lnbench("run " + shadow.string() + " --quiet");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("checkpoints.ln"), std::string::npos) << r.out;
  const fs::path missing = write_config(d, bench.root(), {"base"},
                                        {{"run_id", "missing"}, {"checkpoints", {{"gone", {{"path", (d / "gone").string()}}}}}});
  r = run_lnbench("run " + missing.string() + " --quiet");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("checkpoints.gone"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(d / "results" / "missing" / "tiny" / "base" / "pope" / "metrics.json"));
  fs::remove_all(d);
}

TEST(TrainSweep, PicksTheRateByANamedMetricOfANamedTask) {
  const FixtureCopy bench;
  const fs::path d = temp_dir("lnb_sweep");
  ::setenv("XDG_CACHE_HOME", (d / "cache").c_str(), 1);  // the sweep's feature cache stays in the test folder
  const std::string base = "train --model " + tiny_model().string() + " --strategy ln --data " +
                           write_tiny_data(d / "train").string() + " --images " + tiny_images().string() +
                           " --max-steps 3 --batch-size 2 --lora-rank 4 --quiet --lr 1e-7,5e-2 --select-task pope --select-data " +
                           (bench.root() / "pope").string() + " --select-limit 6";
  Result r = run_lnbench(base + " --out " + (d / "bad").string() + " --select-metric f1_nope");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("f1_mean"), std::string::npos) << r.out;  // names the values that exist
  r = run_lnbench(base + " --out " + (d / "sweep").string() + " --select-metric f1_mean");
  ASSERT_EQ(r.code, 0) << r.out;
  const json sweep = read_json(d / "sweep" / "sweep.json");
  EXPECT_EQ(sweep["select"], "pope:f1_mean");
  ASSERT_EQ(sweep["runs"].size(), 2u);
  double best = -1;
  std::string best_out;
  for (const json& run : sweep["runs"]) {
    // The recorded value is the one in that rate's own evaluation.
    const json m = read_json(fs::path(run["out"].get<std::string>()) / "select-pope" / "metrics.json");
    const double v = m["values"]["f1_mean"].is_number() ? m["values"]["f1_mean"].get<double>() : -1e300;
    EXPECT_EQ(run["f1_mean"].get<double>(), v);
    if (v > best) best = v, best_out = run["out"];
  }
  EXPECT_EQ(sweep["best"]["out"], best_out);
  EXPECT_TRUE(fs::exists(d / "cache" / "lnbench" / "features"));
  ::unsetenv("XDG_CACHE_HOME");
  fs::remove_all(d);
}

}  // namespace
}  // namespace lnb::test
