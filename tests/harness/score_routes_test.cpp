// One scoring route (issue 20): the same answers scored through `lnbench score task`
// (the adapter, as `run` and `eval` score) and through the benchmark-file subcommands
// (`score pope|mme|vqav2|caption` on the files the adapter exported) give the same
// numbers, to the last bit. The answers are the goldens' plus whitespace variants the
// adapters strip and the benchmark files hold stripped ("No\n" parsed raw would be yes
// under POPE's reference parser; stripped it is no), so a route that scores something
// other than what it exports fails here.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/harness/run_lnbench.h"
#include "tests/tasks/task_fixture.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using lnb::test::FixtureCopy;
using lnb::test::read_json;
using lnb::test::run_lnbench;

// Answers for `task` from the goldens, every fourth a plain "No", two in three wrapped in
// whitespace the adapters strip; only the ids `keep` accepts.
fs::path answers_file(const fs::path& dir, const std::string& task,
                      const std::function<bool(const std::string&)>& keep = [](const std::string&) { return true; }) {
  const json goldens = read_json(lnb::test::tasks_data() / "goldens" / "answers.json");
  std::ofstream out(dir / (task + "_answers.jsonl"));
  int i = 0;
  for (const auto& [id, text] : goldens.at(task).items()) {
    if (!keep(id)) continue;
    std::string t = i % 4 == 3 ? "No" : text.get<std::string>();  // "No\n" raw would be a yes to POPE's parser
    if (i % 3 == 1) t = "  " + t + "\n";
    if (i % 3 == 2) t += "\n\n";
    ++i;
    out << json{{"id", id}, {"answer", t}}.dump() << "\n";
  }
  return dir / (task + "_answers.jsonl");
}

// `score task` with --out; returns metrics.json.
json score_task(const FixtureCopy& fx, const std::string& task, const fs::path& out, const std::string& extra = "",
                const fs::path& answers = {}) {
  const auto r = run_lnbench("score task " + task + " --data " + (fx.root() / task).string() + " --answers " +
                             (answers.empty() ? answers_file(fx.root(), task) : answers).string() + " --out " +
                             out.string() + extra);
  EXPECT_EQ(r.code, 0) << r.out;
  return read_json(out / "metrics.json");
}

json score_json(const std::string& args) {
  const auto r = run_lnbench("score " + args + " --json");
  EXPECT_EQ(r.code, 0) << r.out;
  return json::parse(r.out);
}

TEST(ScoreRoutes, PopeTaskAndLabelFilesAgreePerSplit) {
  FixtureCopy fx;
  const fs::path out = fx.root() / "out_pope";
  const json m = score_task(fx, "pope", out);
  for (const std::string split : {"random", "popular", "adversarial"}) {
    const json s = score_json("pope --labels " + (fx.root() / "pope" / ("coco_pope_" + split + ".json")).string() +
                              " --answers " + (out / "submission" / ("pope_" + split + "_answers.jsonl")).string());
    EXPECT_EQ(s["split"], split);
    const json& t = m["splits"][split];
    EXPECT_EQ(s["pope-reference"]["f1"], t["f1"]) << split;
    EXPECT_EQ(s["pope-reference"]["accuracy"], t["accuracy"]) << split;
    EXPECT_EQ(s["pope-reference"]["yes_ratio"], t["yes_ratio"]) << split;
    EXPECT_EQ(s["exact"]["f1"], t["f1_exact"]) << split;
    EXPECT_EQ(s["exact"]["unparseable_rate"], t["unparseable_rate_exact"]) << split;
    EXPECT_EQ(s["pope-reference"]["n_answers"], t["n"]) << split;
  }
}

// A label that is neither yes nor no: both routes refuse it naming file and line; with
// --skip-bad-samples both count it as one skipped question and score the rest alike.
// A capitalised "Yes" is a yes in both.
TEST(ScoreRoutes, PopeBadLabelIsRefusedOrCountedAlikeInBothRoutes) {
  FixtureCopy fx;
  const fs::path labels = fx.root() / "pope" / "coco_pope_random.json";
  std::vector<json> rows;
  {
    std::ifstream in(labels);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) rows.push_back(json::parse(line));
  }
  ASSERT_GE(rows.size(), 4u);
  rows[1]["label"] = "maybe";
  rows[2]["label"] = rows[2]["label"] == "yes" ? "Yes" : "NO";
  {
    std::ofstream out(labels);
    for (const json& j : rows) out << j.dump() << "\n";
  }
  const std::string bad_id = "random/" + std::to_string(rows[1]["question_id"].get<int64_t>());
  const fs::path answers = answers_file(fx.root(), "pope", [](const std::string& id) { return id.rfind("random/", 0) == 0; });
  const auto task_run = run_lnbench("score task pope --split random --data " + (fx.root() / "pope").string() +
                                    " --answers " + answers.string());
  EXPECT_EQ(task_run.code, 2) << task_run.out;
  EXPECT_NE(task_run.out.find("coco_pope_random.json:2"), std::string::npos) << task_run.out;
  EXPECT_NE(task_run.out.find("maybe"), std::string::npos) << task_run.out;

  // The label file's own answers, in label order, by question id.
  const fs::path file_answers = fx.root() / "pope_random_by_qid.jsonl";
  {
    const json goldens = read_json(lnb::test::tasks_data() / "goldens" / "answers.json").at("pope");
    std::ofstream out(file_answers);
    for (const json& j : rows)
      out << json{{"question_id", j["question_id"]},
                  {"answer", goldens.at("random/" + std::to_string(j["question_id"].get<int64_t>()))}}.dump() << "\n";
  }
  const auto file_run = run_lnbench("score pope --labels " + labels.string() + " --answers " + file_answers.string());
  EXPECT_EQ(file_run.code, 2) << file_run.out;
  EXPECT_NE(file_run.out.find("coco_pope_random.json:2"), std::string::npos) << file_run.out;

  const fs::path out = fx.root() / "out_skip";
  const fs::path kept = answers_file(fx.root(), "pope", [&](const std::string& id) {
    return id.rfind("random/", 0) == 0 && id != bad_id;
  });
  const json m = score_task(fx, "pope", out, " --split random --skip-bad-samples", kept);
  EXPECT_EQ(m["skipped"]["count"], 1);
  // By question id: the exported answers in reverse order, plus one for the bad label's
  // question, which --skip-bad-samples must drop with its label.
  const fs::path joined = fx.root() / "pope_random_joined.jsonl";
  {
    std::vector<std::string> lines;
    std::ifstream in(out / "submission" / "pope_random_answers.jsonl");
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) lines.push_back(line);
    lines.push_back(json{{"question_id", rows[1]["question_id"]}, {"answer", "yes"}}.dump());
    std::ofstream o(joined);
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) o << *it << "\n";
  }
  for (const std::string join : {"position", "question_id"}) {
    const fs::path a = join == "position" ? out / "submission" / "pope_random_answers.jsonl" : joined;
    // By position the exported file has one line fewer than the labels: pair against
    // the labels without the skipped line, as the adapter did.
    fs::path l = labels;
    if (join == "position") {
      l = fx.root() / "labels_without_bad.jsonl";
      std::ofstream o(l);
      for (size_t i = 0; i < rows.size(); ++i)
        if (i != 1) o << rows[i].dump() << "\n";
    }
    const json s = score_json("pope --join " + join + " --skip-bad-samples --labels " + l.string() + " --answers " + a.string());
    EXPECT_EQ(s["skipped"]["count"], join == "position" ? 0 : 1) << join;
    EXPECT_EQ(s["pope-reference"]["f1"], m["splits"]["random"]["f1"]) << join;
    EXPECT_EQ(s["pope-reference"]["yes_ratio"], m["splits"]["random"]["yes_ratio"]) << join;
    EXPECT_EQ(s["exact"]["accuracy"], m["splits"]["random"]["accuracy_exact"]) << join;
  }
}

TEST(ScoreRoutes, MmeTaskAndEvalToolFilesAgree) {
  FixtureCopy fx;
  const fs::path out = fx.root() / "out_mme";
  const json m = score_task(fx, "mme", out);
  const json s = score_json("mme --results-dir " + (out / "submission").string());
  EXPECT_EQ(s["perception"], m["values"]["perception"]);
  EXPECT_EQ(s["cognition"], m["values"]["cognition"]);
  ASSERT_FALSE(m["splits"].empty());
  for (const auto& [task, v] : m["splits"].items()) {
    EXPECT_EQ(s["tasks"][task]["score"], v["score"]) << task;
    EXPECT_EQ(s["tasks"][task]["acc_plus"], v["acc_plus"]) << task;
    EXPECT_EQ(s["tasks"][task]["n_other"], v["n_other"]) << task;
  }
}

TEST(ScoreRoutes, VqaTaskAndOfficialResultsAgree) {
  FixtureCopy fx;
  const fs::path out = fx.root() / "out_vqa";
  const json m = score_task(fx, "vqav2", out);
  const fs::path d = fx.root() / "vqav2";
  const std::string files = "vqav2 --questions " + (d / "v2_OpenEnded_mscoco_val2014_questions.json").string() +
                            " --annotations " + (d / "v2_mscoco_val2014_annotations.json").string() + " --results " +
                            (out / "submission" / "vqav2_val_results.json").string();
  const json official = score_json(files), llava = score_json(files + " --normalization llava");
  EXPECT_EQ(official["overall_unrounded"], m["values"]["accuracy"]);
  EXPECT_EQ(official["overall"], m["values"]["accuracy_official"]);
  EXPECT_EQ(llava["overall_unrounded"], m["values"]["accuracy_llava"]);
  for (const auto& [type, v] : m["splits"].items()) EXPECT_EQ(official["perAnswerType"][type], v["accuracy"]) << type;
}

TEST(ScoreRoutes, CaptionTaskAndCocoResultsAgree) {
  FixtureCopy fx;
  const fs::path out = fx.root() / "out_coco";
  const json m = score_task(fx, "coco", out);
  const json s = score_json("caption --annotations " + (out / "submission" / "coco_test_annotations.json").string() +
                            " --results " + (out / "submission" / "coco_test_results.json").string());
  EXPECT_EQ(s["CIDEr"], m["values"]["cider"]);
  EXPECT_EQ(s["Bleu_4"], m["values"]["bleu_4"]);
  EXPECT_EQ(s["Bleu_1"], m["values"]["bleu_1"]);
  EXPECT_EQ(s["ROUGE_L"], m["values"]["rouge_l"]);
}

}  // namespace

namespace {

// VLMEvalKit cannot run in CI (not on PyPI): its own scores for the checked-in
// prediction files were computed by its code (tests/tasks/gen_vlmevalkit_goldens.py)
// and lnbench's "peer" block must equal them exactly, from the tsv and the json alike.
const fs::path kPeers = fs::path(LNB_TEST_DATA_DIR) / "peers" / "vlmevalkit";

double as_double(const json& v) { return v.is_string() ? std::stod(v.get<std::string>()) : v.get<double>(); }

TEST(ScorePeers, VlmevalkitPopeEqualsItsOwnRating) {
  const json g = read_json(kPeers / "scores.json").at("pope");
  for (const char* file : {"model_POPE.tsv", "model_POPE.json"}) {
    const json s = score_json("pope --from vlmevalkit " + (kPeers / file).string());
    EXPECT_EQ(s["records"], 18) << file;
    EXPECT_EQ(s["scored"], 19) << file;  // one row is in two splits
    const json& peer = s["peer"]["values"];
    ASSERT_EQ(peer.size(), g["split"].size()) << file;
    for (size_t i = 0; i < g["split"].size(); ++i) {
      const std::string split = g["split"][i];
      for (const char* col : {"Overall", "acc", "precision", "recall"})
        EXPECT_EQ(peer[split][col].get<double>(), as_double(g[col][i])) << file << " " << split << " " << col;
    }
    EXPECT_EQ(s["lnbench"]["splits"].size(), 3u);
    EXPECT_FALSE(s["differences"].empty());
  }
}

TEST(ScorePeers, VlmevalkitMmeEqualsItsOwnRating) {
  const json g = read_json(kPeers / "scores.json").at("mme");
  for (const char* file : {"model_MME.tsv", "model_MME.json"}) {
    const json s = score_json("mme --from vlmevalkit " + (kPeers / file).string());
    EXPECT_EQ(s["peer"]["perception"].get<double>(), as_double(g["perception"][0])) << file;
    EXPECT_EQ(s["peer"]["reasoning"].get<double>(), as_double(g["reasoning"][0])) << file;
    for (const auto& [task, v] : s["peer"]["tasks"].items()) EXPECT_EQ(v.get<double>(), as_double(g[task][0])) << task;
    EXPECT_EQ(s["peer"]["tasks"].size(), 14u);
  }
}

TEST(ScorePeers, BadPeerInputsAreClearErrors) {
  const fs::path dir = fs::temp_directory_path() / "lnb_score_peers";
  fs::create_directories(dir);
  std::ofstream(dir / "p.xlsx") << "PK";
  auto r = run_lnbench("score pope --from vlmevalkit " + (dir / "p.xlsx").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("PRED_FORMAT=tsv"), std::string::npos) << r.out;
  std::ofstream(dir / "p.tsv") << "index\tanswer\tprediction\n0\tYes\tyes\n";
  r = run_lnbench("score pope --from vlmevalkit " + (dir / "p.tsv").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("category"), std::string::npos) << r.out;
  std::ofstream(dir / "s.jsonl") << R"({"doc_id": 0, "doc": {"question_id": "1"}, "filtered_resps": [["yes", "no"]]})" << "\n";
  r = run_lnbench("score pope --from lmms-eval " + (dir / "s.jsonl").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("s.jsonl:1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("filtered_resps"), std::string::npos) << r.out;
  r = run_lnbench("score pope --from opencompass " + (dir / "s.jsonl").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("lmms-eval, vlmevalkit"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

}  // namespace
