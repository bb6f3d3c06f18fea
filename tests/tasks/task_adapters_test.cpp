// Every adapter over the fixture benchmarks: request order and ids, exports byte for
// byte and scores against gen_task_goldens.py, and Task::score equal to `lnbench score`
// on the exported files.
#include <algorithm>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "tasks/benchmark_files.h"
#include "tasks/task.h"
#include "tests/harness/run_lnbench.h"
#include "tests/tasks/task_fixture.h"

namespace lnb::tasks {
namespace {

using nlohmann::json;
using test::FixtureCopy;
using test::read_file;
using test::read_json;
using test::tasks_data;

std::vector<Answer> golden_answers(const std::string& key) {
  std::vector<Answer> out;
  const json all = read_json(tasks_data() / "goldens" / "answers.json");  // outlives the loop
  for (const auto& [id, text] : all.at(key).items())
    out.push_back({id, text.get<std::string>()});
  return out;
}

std::vector<std::string> golden_ids(const std::string& key) {
  std::vector<std::string> ids;
  const json all = read_json(tasks_data() / "goldens" / "prompts.json");
  for (const auto& p : all.at(key)) ids.push_back(p["id"]);
  return ids;
}

std::vector<std::string> ids_of(const Task& t) {
  std::vector<std::string> ids;
  for (const auto& r : t.requests()) ids.push_back(r.id);
  return ids;
}

struct Loaded {
  std::unique_ptr<Task> task;
  fs::path out;
};

Loaded load(const FixtureCopy& fx, const std::string& name, const std::string& dir, TaskOptions o = {}) {
  Loaded l{make_task(name), fx.root() / ("out_" + name + "_" + o.split)};
  l.task->load(fx.root() / dir, o);
  return l;
}

void expect_exports_equal_goldens(const std::vector<fs::path>& written) {
  ASSERT_FALSE(written.empty());
  for (const fs::path& p : written) {
    const fs::path golden = tasks_data() / "goldens" / "export" / p.filename();
    ASSERT_TRUE(fs::exists(golden)) << p.filename();
    EXPECT_EQ(read_file(p), read_file(golden)) << p.filename();
  }
}

json score_cli(const std::string& args) {
  const auto r = test::run_lnbench("score " + args + " --json");
  EXPECT_EQ(r.code, 0) << r.out;
  return json::parse(r.out);
}

TEST(MmeTask, OrderExportAndScoresFollowTheEvalTool) {
  FixtureCopy fx;
  auto [task, out] = load(fx, "mme", "mme");
  EXPECT_EQ(ids_of(*task), golden_ids("mme"));
  const auto answers = golden_answers("mme");
  expect_exports_equal_goldens(task->export_submission(answers, out));
  const TaskScores s = task->score(answers);
  const json g = read_json(tasks_data() / "goldens" / "scores.json")["mme"];
  EXPECT_NEAR(s.metrics["values"]["perception"].get<double>(), g["perception"].get<double>(), 1e-9);
  EXPECT_NEAR(s.metrics["values"]["cognition"].get<double>(), g["cognition"].get<double>(), 1e-9);
  for (const auto& [sub, v] : g["tasks"].items())
    EXPECT_NEAR(s.metrics["splits"][sub]["score"].get<double>(), v.get<double>(), 1e-9) << sub;
  // The same numbers from the exported eval_tool files through `lnbench score mme`.
  const json cli = score_cli("mme --results-dir " + out.string());
  EXPECT_EQ(cli["perception"].get<double>(), s.metrics["values"]["perception"].get<double>());
  EXPECT_EQ(cli["cognition"].get<double>(), s.metrics["values"]["cognition"].get<double>());
  EXPECT_EQ(s.samples.size(), task->requests().size());
  EXPECT_GT(s.metrics["unparseable_rate"].get<double>(), 0.0);  // "maybe", "" are 'other'
}

TEST(MmeTask, LlavaJsonlQuestionsGiveTheSameGroundTruth) {
  FixtureCopy fx;
  // llava_mme.jsonl as LLaVA ships it: "<category>/[images/]<file>", the suffix baked in,
  // its own order (reversed here), and a double-space question restored by the lookup.
  auto [bench, out] = load(fx, "mme", "mme");
  std::string jsonl;
  const auto& reqs = bench->requests();
  std::vector<size_t> order;
  for (size_t g = reqs.size() / 2; g-- > 0;) order.insert(order.end(), {2 * g, 2 * g + 1});
  for (size_t i : order) {
    const Request& r = reqs[i];
    const std::string rel = fs::relative(r.image, fx.root() / "mme" / "MME_Benchmark_release_version").generic_string();
    std::string text = r.turns.back().user.substr(std::string("<image>\n").size());
    jsonl += json({{"question_id", rel}, {"image", rel}, {"text", text}, {"category", r.split}}).dump() + "\n";
  }
  std::ofstream(fx.root() / "mme" / "llava_mme.jsonl") << jsonl;
  TaskOptions o;
  o.files["questions"] = "llava_mme.jsonl";
  auto l = load(fx, "mme", "mme", o);
  ASSERT_EQ(l.task->requests().size(), reqs.size());
  const auto answers = golden_answers("mme");
  EXPECT_EQ(l.task->score(answers).metrics["values"], bench->score(answers).metrics["values"]);
  EXPECT_NE(l.task->fingerprint(), bench->fingerprint());
}

TEST(Vqav2Task, ValExportScoresLikeTheOfficialScorer) {
  FixtureCopy fx;
  auto [task, out] = load(fx, "vqav2", "vqav2");
  EXPECT_EQ(ids_of(*task), golden_ids("vqav2"));
  const auto answers = golden_answers("vqav2");
  expect_exports_equal_goldens(task->export_submission(answers, out));
  const TaskScores s = task->score(answers);
  const fs::path d = fx.root() / "vqav2";
  const json cli = score_cli("vqav2 --questions " + (d / "v2_OpenEnded_mscoco_val2014_questions.json").string() +
                             " --annotations " + (d / "v2_mscoco_val2014_annotations.json").string() + " --results " +
                             (out / "vqav2_val_results.json").string());
  EXPECT_EQ(cli["overall"].get<double>(), s.metrics["values"]["accuracy_official"].get<double>());
  EXPECT_DOUBLE_EQ(cli["overall_unrounded"].get<double>(), s.metrics["values"]["accuracy"].get<double>());
  for (const auto& [type, acc] : cli["perAnswerType"].items())
    EXPECT_EQ(acc.get<double>(), s.metrics["splits"][type]["accuracy"].get<double>()) << type;
}

TEST(Vqav2Task, TestDevExportCoversEveryTest2015QuestionLikeLlava) {
  FixtureCopy fx;
  TaskOptions o;
  o.split = "test-dev";
  auto [task, out] = load(fx, "vqav2", "vqav2", o);
  EXPECT_EQ(ids_of(*task), golden_ids("vqav2_test-dev"));
  const auto answers = golden_answers("vqav2_test-dev");
  expect_exports_equal_goldens(task->export_submission(answers, out));
  const TaskScores s = task->score(answers);
  EXPECT_TRUE(s.metrics["values"].empty());  // no public answers
  EXPECT_FALSE(s.samples.front().score.has_value());
}

class CaptionTaskTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CaptionTaskTest, KarpathyTestSplitExportScoresLikePycocoevalcap) {
  const std::string name = GetParam();
  FixtureCopy fx;
  auto [task, out] = load(fx, name, name);
  EXPECT_EQ(ids_of(*task), golden_ids(name));
  const auto answers = golden_answers(name);
  expect_exports_equal_goldens(task->export_submission(answers, out));
  const TaskScores s = task->score(answers);
  const json cli = score_cli("caption --annotations " + (out / (name + "_test_annotations.json")).string() + " --results " +
                             (out / (name + "_test_results.json")).string());
  EXPECT_EQ(cli["CIDEr"].get<double>(), s.metrics["values"]["cider"].get<double>());
  EXPECT_EQ(cli["Bleu_4"].get<double>(), s.metrics["values"]["bleu_4"].get<double>());
  EXPECT_EQ(cli["ROUGE_L"].get<double>(), s.metrics["values"]["rouge_l"].get<double>());
  // The asset's three example turns precede the image turn; only that one has the marker.
  const auto& turns = task->requests().front().turns;
  ASSERT_EQ(turns.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(turns[i].assistant.has_value());
    EXPECT_EQ(turns[i].user.find("<image>"), std::string::npos);
  }
  EXPECT_EQ(turns[3].user.rfind("<image>\n", 0), 0u);
  EXPECT_NE(s.metrics["prompt_asset"].get<std::string>().find("caption-3shot@1"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(CocoAndFlickr, CaptionTaskTest, ::testing::Values("coco", "flickr30k"));

TEST(CaptionTask, FlickrAllSplitIsNamedAndLarger) {
  FixtureCopy fx;
  TaskOptions o;
  o.split = "all";
  auto [task, out] = load(fx, "flickr30k", "flickr30k", o);
  EXPECT_EQ(task->requests().size(), 3u);
  std::vector<Answer> answers;
  for (const auto& r : task->requests()) answers.push_back({r.id, "a dog"});
  EXPECT_NE(task->score(answers).metrics["definitions"]["split"].get<std::string>().find("31,783"), std::string::npos);
}

TEST(PopeTask, PerSplitScoresFollowEvalPopeAndExportScoresTheSame) {
  FixtureCopy fx;
  auto [task, out] = load(fx, "pope", "pope");
  EXPECT_EQ(ids_of(*task), golden_ids("pope"));
  const auto answers = golden_answers("pope");
  const auto written = task->export_submission(answers, out);
  expect_exports_equal_goldens(written);
  const TaskScores s = task->score(answers);
  const json g = read_json(tasks_data() / "goldens" / "scores.json")["pope"];
  EXPECT_NEAR(s.metrics["values"]["f1_mean"].get<double>(), g["f1_mean"].get<double>(), 1e-12);
  for (const std::string split : {"random", "popular", "adversarial"}) {
    EXPECT_NEAR(s.metrics["splits"][split]["f1"].get<double>(), g[split]["f1"].get<double>(), 1e-12) << split;
    EXPECT_NEAR(s.metrics["splits"][split]["accuracy"].get<double>(), g[split]["accuracy"].get<double>(), 1e-12) << split;
    EXPECT_NEAR(s.metrics["splits"][split]["yes_ratio"].get<double>(), g[split]["yes_ratio"].get<double>(), 1e-12) << split;
    const json cli = score_cli("pope --labels " + (fx.root() / "pope" / ("coco_pope_" + split + ".json")).string() +
                               " --answers " + (out / ("pope_" + split + "_answers.jsonl")).string() + " --join question_id");
    EXPECT_EQ(cli["pope-reference"]["f1"].get<double>(), s.metrics["splits"][split]["f1"].get<double>()) << split;
    EXPECT_EQ(cli["exact"]["f1"], json(s.metrics["splits"][split]["f1_exact"])) << split;
  }
}

TEST(Limit, KeepsWholeImagesIsDeterministicAndNested) {
  FixtureCopy fx;
  for (const std::string name : {"mme", "vqav2", "pope"}) {
    TaskOptions small, large;
    small.limit = 5;
    large.limit = 12;
    auto a = load(fx, name, name, small), b = load(fx, name, name, small), c = load(fx, name, name, large);
    EXPECT_EQ(ids_of(*a.task), ids_of(*b.task)) << name;
    EXPECT_GE(a.task->requests().size(), 5u) << name;
    std::map<std::string, int> per_group_full, per_group_small;
    auto full = load(fx, name, name);
    for (const auto& r : full.task->requests()) per_group_full[r.group]++;
    for (const auto& r : a.task->requests()) per_group_small[r.group]++;
    for (const auto& [g, n] : per_group_small) EXPECT_EQ(n, per_group_full[g]) << name << " " << g;
    const std::vector<std::string> c_ids = ids_of(*c.task);
    const std::set<std::string> larger(c_ids.begin(), c_ids.end());
    for (const auto& id : ids_of(*a.task)) EXPECT_TRUE(larger.count(id)) << name << " " << id;
    EXPECT_NE(a.task->fingerprint(), full.task->fingerprint());
  }
}

TEST(Fingerprint, StableForTheSameFilesAndChangesWithAnyOfThem) {
  FixtureCopy fx;
  const std::string before = load(fx, "pope", "pope").task->fingerprint();
  EXPECT_EQ(load(fx, "pope", "pope").task->fingerprint(), before);
  TaskOptions suffix;
  suffix.short_answer_suffix = " Answer yes or no.";
  EXPECT_NE(load(fx, "pope", "pope", suffix).task->fingerprint(), before);
  std::ofstream(fx.root() / "pope" / "coco_pope_random.json", std::ios::app) << "\n";
  EXPECT_NE(load(fx, "pope", "pope").task->fingerprint(), before);
}

TEST(SampleRecord, CarriesPromptHashAnswerAndScore) {
  FixtureCopy fx;
  auto [task, out] = load(fx, "pope", "pope");
  const auto answers = golden_answers("pope");
  const TaskScores s = task->score(answers);
  const json rec = sample_record(task->requests()[0], task->data_root(), "PROMPT", "Yes.", s.samples[0]);
  EXPECT_EQ(rec["id"], task->requests()[0].id);
  EXPECT_EQ(rec["prompt_sha256"], common::sha256_hex("PROMPT"));
  EXPECT_EQ(rec["answer"], "Yes.");
  EXPECT_TRUE(rec.contains("correct"));
  EXPECT_TRUE(rec.contains("parsed_exact"));
  // Every record names its image, its question and its ground truth as the label file
  // has them: the line of its split with that image and question text.
  std::map<std::string, std::vector<PopeLabel>> labels;
  for (const char* split : {"random", "popular", "adversarial"})
    labels[split] = read_pope_labels(fx.root() / "pope" / ("coco_pope_" + std::string(split) + ".json"));
  for (size_t i = 0; i < task->requests().size(); ++i) {
    const Request& r = task->requests()[i];
    const json j = sample_record(r, task->data_root(), "P", "no", s.samples[i]);
    SCOPED_TRACE(r.id);
    ASSERT_TRUE(j["image"].is_string());
    const fs::path image(j["image"].get<std::string>());
    EXPECT_TRUE(fs::exists(image)) << image;
    const auto& in_split = labels.at(r.split);
    const auto hit = std::find_if(in_split.begin(), in_split.end(), [&](const PopeLabel& l) {
      return fs::path(l.image).filename() == image.filename() && j["question"] == l.text + std::string(kShortAnswerSuffix);
    });
    ASSERT_NE(hit, in_split.end()) << j.dump();
    EXPECT_EQ(j["reference"], hit->label);
  }
}

TEST(ScoreTaskCli, ListsRequestsAndScoresAnswersIntoTheResultsLayout) {
  FixtureCopy fx;
  const fs::path data = fx.root() / "pope";
  const auto listed = test::run_lnbench("score task pope --data " + data.string() + " --requests");
  ASSERT_EQ(listed.code, 0) << listed.out;
  auto [task, out] = load(fx, "pope", "pope");
  EXPECT_EQ(static_cast<size_t>(std::count(listed.out.begin(), listed.out.end(), '\n')), task->requests().size());
  EXPECT_EQ(json::parse(listed.out.substr(0, listed.out.find('\n')))["id"], task->requests()[0].id);

  const auto answers = golden_answers("pope");
  const fs::path file = fx.root() / "answers.jsonl";
  {
    std::ofstream f(file);
    for (const auto& a : answers) f << json({{"id", a.id}, {"answer", a.text}}).dump() << "\n";
  }
  const auto scored = test::run_lnbench("score task pope --data " + data.string() + " --answers " + file.string() +
                                        " --out " + (fx.root() / "res").string());
  ASSERT_EQ(scored.code, 0) << scored.out;
  const json metrics = read_json(fx.root() / "res" / "metrics.json");
  EXPECT_EQ(metrics["schema"], "lnbench.metrics/1");
  EXPECT_EQ(metrics["values"], json(task->score(answers).metrics["values"]));
  EXPECT_EQ(metrics["fingerprint"], task->fingerprint());
  const std::string samples = read_file(fx.root() / "res" / "samples.jsonl");
  EXPECT_EQ(static_cast<size_t>(std::count(samples.begin(), samples.end(), '\n')), answers.size());
  expect_exports_equal_goldens(task->export_submission(answers, fx.root() / "res" / "submission"));

  std::ofstream(file, std::ios::app) << "{\"id\": 3}\n";
  const auto bad = test::run_lnbench("score task pope --data " + data.string() + " --answers " + file.string());
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("answers.jsonl:" + std::to_string(answers.size() + 1) + ": field 'id'"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace lnb::tasks

namespace lnb::tasks {
namespace {

// Every headline value in metrics.json has a 95 % interval around it, and it is the
// same interval on a second scoring (seeded).
TEST(Intervals, EveryHeadlineScoreHasAnIntervalAroundIt) {
  FixtureCopy fx;
  const std::vector<std::pair<std::string, std::vector<std::string>>> headlines = {
      {"mme", {"perception", "cognition"}}, {"vqav2", {"accuracy"}}, {"coco", {"cider"}},
      {"flickr30k", {"cider"}}, {"pope", {"f1_mean"}}};
  for (const auto& [name, keys] : headlines) {
    SCOPED_TRACE(name);
    auto l = load(fx, name, name);
    const auto answers = golden_answers(name);
    const json m = l.task->score(answers).metrics;
    ASSERT_TRUE(m.contains("intervals"));
    EXPECT_EQ(m["intervals"]["confidence"], 0.95);
    EXPECT_FALSE(m["intervals"]["method"].get<std::string>().empty());
    for (const std::string& k : keys) {
      const json& iv = m["intervals"]["values"][k];
      ASSERT_TRUE(iv.is_array()) << k << ": " << m["intervals"].dump();
      const double v = m["values"][k].get<double>();
      EXPECT_LE(iv[0].get<double>(), v) << k;
      EXPECT_GE(iv[1].get<double>(), v) << k;
    }
    EXPECT_EQ(json(l.task->score(answers).metrics)["intervals"], m["intervals"]);
  }
  auto pope = load(fx, "pope", "pope");
  const json p = pope.task->score(golden_answers("pope")).metrics;
  for (const auto& [split, v] : p["splits"].items()) {
    const json& acc = p["intervals"]["splits"][split]["accuracy"];
    ASSERT_TRUE(acc.is_array()) << split;
    EXPECT_LE(acc[0].get<double>(), v["accuracy"].get<double>());
    EXPECT_GE(acc[1].get<double>(), v["accuracy"].get<double>());
  }
}

TEST(MmeTask, AGroupWithoutSubtasksHasNoTotal) {
  FixtureCopy fx;
  TaskOptions o;
  o.split = "existence";
  auto l = load(fx, "mme", "mme", o);
  std::vector<Answer> answers;
  for (const auto& r : l.task->requests()) answers.push_back({r.id, "Yes"});
  const json m = l.task->score(answers).metrics;
  EXPECT_TRUE(m["values"]["cognition"].is_null()) << m["values"].dump();
  EXPECT_TRUE(m["values"]["perception"].is_number());
  EXPECT_TRUE(m["intervals"]["values"]["cognition"].is_null());
}

}  // namespace
}  // namespace lnb::tasks
