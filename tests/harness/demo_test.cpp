// `lnbench demo --size test`: the reduced demo end to end through the real binary —
// world, base model (HF folder the loader reads), stage 1, every strategy, all five tasks,
// the report — and the pipeline's invariants: every cell and task present, every file of
// the results store schema-valid, LN's trainable count below LoRA's (and LN-simple's below
// LN's), caches reused by a rerun, and a demo killed while building the base model and
// again while answering finishes with the same metrics as an uninterrupted one.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/harness/run_lnbench.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::vector<std::string> kStrategies = {"base", "connector", "ln-simple", "ln", "lora", "attn-qv", "full",
                                              "adapter", "adapter+ln", "prefix", "prefix+ln"};
const std::vector<std::string> kTasks = {"mme", "vqav2", "coco", "flickr30k", "pope"};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json read_json(const fs::path& p) { return json::parse(read_file(p)); }

int run_demo(const fs::path& out, const std::string& extra = "") {
  const std::string cmd = std::string(LNB_EXE) + " demo --size test --out " + out.string() + " " + extra + " >" +
                          (out.string() + ".stdout") + " 2>" + (out.string() + ".stderr");
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// strategy/task -> metrics.json "values" and "splits" (paths and fingerprints aside).
std::map<std::string, json> scores_of(const fs::path& run) {
  std::map<std::string, json> out;
  for (const auto& s : kStrategies)
    for (const auto& t : kTasks) {
      const fs::path f = run / "shapes" / s / t / "metrics.json";
      if (!fs::exists(f)) continue;
      const json m = read_json(f);
      out[s + "/" + t] = {m["values"], m.value("splits", json())};
    }
  return out;
}

// Runs the demo until `marker` has appeared `count` times in its progress log, then
// SIGKILLs it. Returns false when the demo finished first.
bool kill_at(const fs::path& out, const std::string& marker, size_t count) {
  const fs::path log = out.string() + ".killed.log";
  const pid_t pid = lnb::test::spawn(std::string(LNB_EXE) + " demo --size test --out " + out.string(), log.string());
  int status = 0;
  const auto seen = [&] {
    const std::string t = read_file(log);
    size_t n = 0;
    for (size_t p = t.find(marker); p != std::string::npos; p = t.find(marker, p + 1)) ++n;
    return n;
  };
  while (seen() < count) {
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return true;
}

// One demo run shared by the checks below (one test: ctest runs each TEST in its own process).
fs::path* dir_ = nullptr;
int rc_ = -1;

void EveryCellAndTaskIsPresentWithItsScoresParamsAndMemory() {
  ASSERT_EQ(rc_, 0) << read_file(dir_->string() + "/a.stderr");
  const json demo = read_json(*dir_ / "a" / "demo.json");
  EXPECT_EQ(demo["schema"], "lnbench.demo/1");
  ASSERT_EQ(demo["cells"].size(), kStrategies.size());
  std::map<std::string, json> cells;
  for (const json& c : demo["cells"]) cells[c["strategy"]] = c;
  for (const auto& s : kStrategies) {
    ASSERT_TRUE(cells.count(s)) << s;
    for (const char* col : {"mme_perception", "vqav2_accuracy", "coco_cider", "flickr30k_cider", "pope_f1_mean"})
      EXPECT_TRUE(cells[s]["scores"][col].is_number()) << s << " " << col;
    if (s == "base") continue;
    EXPECT_GT(cells[s]["trainable_params"].get<int64_t>(), 0) << s;
    EXPECT_GT(cells[s]["peak_train_memory_bytes"].get<int64_t>(), 0) << s;
    EXPECT_EQ(cells[s]["tasks_compared"], 5) << s;
  }
  const auto trainable = [&](const char* s) { return cells[s]["trainable_params"].get<int64_t>(); };
  EXPECT_LT(trainable("ln"), trainable("lora"));
  EXPECT_LT(trainable("ln-simple"), trainable("ln"));
  EXPECT_LT(trainable("lora"), trainable("full"));
  // The combinations add exactly ln-simple's norms to what they combine.
  EXPECT_EQ(trainable("prefix+ln") - trainable("prefix"), trainable("ln-simple"));
  EXPECT_EQ(trainable("adapter+ln") - trainable("adapter"), trainable("ln-simple"));
  ASSERT_EQ(demo["combination_findings"].size(), 2u);
  for (const json& f : demo["combination_findings"]) {
    EXPECT_EQ(f["tasks_compared"], 5) << f.dump();
    EXPECT_EQ(f["difference"].size(), 5u) << f.dump();
  }
  // The stdout table is the same data.
  const std::string table = read_file(dir_->string() + "/a.stdout");
  for (const auto& s : kStrategies) EXPECT_NE(table.find("\n" + s + " "), std::string::npos) << s;
}

void EveryFileOfTheStoreAndTheReportIsSchemaValid() {
  ASSERT_EQ(rc_, 0);
  const fs::path run = *dir_ / "a" / "results" / "demo-test";
  const json run_json = read_json(run / "run.json");
  EXPECT_EQ(run_json["schema"].get<std::string>().rfind("lnbench.run/", 0), 0u) << run_json["schema"];
  size_t json_files = 0, sample_lines = 0;
  for (const auto& e : fs::recursive_directory_iterator(run)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    if (name == "metrics.json" || name == "eval.json" || name == "train.json" || name == "run.json") {
      const json j = read_json(e.path());
      ASSERT_TRUE(j.contains("schema") && j["schema"].is_string()) << e.path();
      EXPECT_EQ(j["schema"].get<std::string>().rfind("lnbench.", 0), 0u) << e.path();
      ++json_files;
    }
    if (name == "samples.jsonl") {
      std::set<std::string> ids;
      std::istringstream in(read_file(e.path()));
      for (std::string line; std::getline(in, line);) {
        const json j = json::parse(line);
        EXPECT_TRUE(ids.insert(j.at("id").get<std::string>()).second) << e.path() << " repeats " << j["id"];
        EXPECT_TRUE(j.at("answer").is_string());
        ++sample_lines;
      }
    }
  }
  for (const auto& s : kStrategies)
    for (const auto& t : kTasks) EXPECT_TRUE(fs::exists(run / "shapes" / s / t / "metrics.json")) << s << "/" << t;
  EXPECT_GE(json_files, kStrategies.size() * kTasks.size() * 2);
  EXPECT_GT(sample_lines, 100u);
  const std::string csv = read_file(*dir_ / "a" / "report" / "leaderboard.csv");
  size_t rows = 0;
  for (size_t p = csv.find("demo-test,"); p != std::string::npos; p = csv.find("demo-test,", p + 1)) ++rows;
  EXPECT_EQ(rows, 2 * kStrategies.size() - 1);  // every trained strategy twice (train.seeds 42, 43), base once
  EXPECT_NE(read_file(*dir_ / "a" / "report" / "index.html").find("ln-simple"), std::string::npos);
  // The base model is an HF llava-hf folder.
  const json config = read_json(*dir_ / "a" / "models" / "base" / "config.json");
  EXPECT_EQ(config["model_type"], "llava");
  EXPECT_EQ(config["architectures"][0], "LlavaForConditionalGeneration");
  EXPECT_TRUE(fs::exists(*dir_ / "a" / "models" / "base" / "tokenizer.model"));
  EXPECT_TRUE(fs::exists(*dir_ / "a" / "models" / "aligned" / "model.safetensors"));
}

// Night 2 repeats night 1's matrix: every answer comes from night 1 under its key, the
// scores are night 1's, and the report trends and compares two nights.
void TheSecondNightRedoesNothingAndTheReportShowsTwoNights() {
  ASSERT_EQ(rc_, 0);
  const fs::path night1 = *dir_ / "a" / "results" / "demo-test", night2 = *dir_ / "a" / "results" / "demo-test-night2";
  EXPECT_EQ(scores_of(night2), scores_of(night1));
  EXPECT_EQ(scores_of(night2).size(), kStrategies.size() * kTasks.size());
  for (const auto& s : kStrategies)
    for (const auto& t : kTasks) {
      const json e = read_json(night2 / "shapes" / s / t / "eval.json");
      ASSERT_TRUE(e.contains("reused_from")) << s << "/" << t;
      EXPECT_EQ(fs::path(e["reused_from"].get<std::string>()), fs::absolute(night1 / "shapes" / s / t).lexically_normal());
      EXPECT_EQ(read_file(night2 / "shapes" / s / t / "samples.jsonl"), read_file(night1 / "shapes" / s / t / "samples.jsonl"));
    }
  const std::string index = read_file(*dir_ / "a" / "report" / "index.html");
  EXPECT_NE(index.find("2 night(s)"), std::string::npos);
  EXPECT_NE(index.find("baseline: <b>demo-test</b>"), std::string::npos);
  EXPECT_NE(index.find("pope_f1_mean across nights"), std::string::npos);
  EXPECT_EQ(index.find("REGRESSED"), std::string::npos);
  EXPECT_NE(index.find("Which differences are real"), std::string::npos);
  const json demo = read_json(*dir_ / "a" / "demo.json");
  EXPECT_EQ(demo["run_id"], "demo-test-night2");
  EXPECT_TRUE(demo["timing"]["night2"]["seconds"].is_number());
  // Two seeds: each trained strategy's second cell, and the report's seed spread.
  for (const auto& s : kStrategies) {
    if (s == "base") continue;
    const json tj = read_json(night1 / "shapes" / (s + "~seed43") / "train.json");
    EXPECT_EQ(tj["seed"], 43) << s;
    EXPECT_EQ(read_json(night1 / "shapes" / s / "train.json")["seed"], 42) << s;
    EXPECT_NE(tj["checkpoint_key"], read_json(night1 / "shapes" / s / "train.json")["checkpoint_key"]) << s;
  }
  EXPECT_NE(index.find("Seed spread"), std::string::npos);
  const std::string spread = read_file(*dir_ / "a" / "report" / "seed_spread.csv");
  EXPECT_NE(spread.find("demo-test-night2,shapes,ln,pope_f1_mean,2,"), std::string::npos) << spread.substr(0, 500);
  const std::string pairwise = read_file(*dir_ / "a" / "report" / "pairwise.csv");
  EXPECT_NE(pairwise.find("demo-test-night2,shapes,pope,"), std::string::npos);
}

void ARerunReusesEveryCacheAndChangesNoResult() {
  ASSERT_EQ(rc_, 0);
  const fs::path run = *dir_ / "a" / "results" / "demo-test";
  const auto before = scores_of(run);
  ASSERT_EQ(run_demo(*dir_ / "a"), 0);
  const json demo = read_json(*dir_ / "a" / "demo.json");
  EXPECT_EQ(demo["timing"]["world"]["cached"], true);
  EXPECT_EQ(demo["timing"]["base_model"]["cached"], true);
  EXPECT_EQ(demo["timing"]["stage1"]["cached"], true);
  EXPECT_EQ(scores_of(run), before);
}

void KilledWhileBuildingAndWhileAnsweringItFinishesWithTheSameMetrics() {
  ASSERT_EQ(rc_, 0);
  const fs::path out = *dir_ / "b";
  ASSERT_TRUE(kill_at(out, "\"phase\":\"language model\"", 3)) << "finished before the first kill";
  ASSERT_TRUE(kill_at(out, "eval_progress", 3)) << "finished before the second kill";
  ASSERT_EQ(run_demo(out), 0) << read_file(out.string() + ".stderr");
  const json demo = read_json(out / "demo.json");
  EXPECT_EQ(demo["timing"]["base_model"]["cached"], true);  // built by the second attempt
  EXPECT_EQ(scores_of(out / "results" / "demo-test"), scores_of(*dir_ / "a" / "results" / "demo-test"));
  EXPECT_EQ(scores_of(out / "results" / "demo-test").size(), kStrategies.size() * kTasks.size());
}

}  // namespace

TEST(Demo, ReducedDemoEndToEndInvariantsCachesAndKills) {
  dir_ = new fs::path(temp_dir("lnb_demo_test"));
  rc_ = run_demo(*dir_ / "a");
  ASSERT_EQ(rc_, 0) << read_file(dir_->string() + "/a.stderr");
  {
    SCOPED_TRACE("night 2");
    TheSecondNightRedoesNothingAndTheReportShowsTwoNights();
  }
  {
    SCOPED_TRACE("cells");
    EveryCellAndTaskIsPresentWithItsScoresParamsAndMemory();
  }
  {
    SCOPED_TRACE("schemas");
    EveryFileOfTheStoreAndTheReportIsSchemaValid();
  }
  {
    SCOPED_TRACE("rerun");
    ARerunReusesEveryCacheAndChangesNoResult();
  }
  {
    SCOPED_TRACE("kills");
    KilledWhileBuildingAndWhileAnsweringItFinishesWithTheSameMetrics();
  }
  if (!HasFailure()) fs::remove_all(*dir_);
  delete dir_;
}
