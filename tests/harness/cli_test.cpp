// The lnbench command line end to end: --version, --help, bad demo options,
// and `lnbench score` on the real benchmark files (published numbers exactly).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/harness/run_lnbench.h"

namespace {

namespace fs = std::filesystem;

using lnb::test::Result;
Result run(const std::string& args, const std::string& stdin_file = "") { return lnb::test::run_lnbench(args, stdin_file); }

fs::path temp(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "lnb_cli_test";
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << text;
  return dir / name;
}

const std::string kData = LNB_TEST_DATA_DIR;

#ifndef LNB_HAS_TORCH_PLUGIN
TEST(Cli, TorchSubcommandWithoutThePluginIsAClearError) {
  const Result r = run("selfcheck");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("cannot load the LibTorch part"), std::string::npos) << r.out;
}
#endif

TEST(Cli, VersionNamesEveryComponent) {
#ifndef LNB_HAS_TORCH_PLUGIN
  GTEST_SKIP() << "built with LNB_WITH_TORCH=OFF";
#endif
  const Result r = run("--version");
  EXPECT_EQ(r.code, 0);
  for (const char* part : {"lnbench 0.1.0", "git ", "torch 2.11.0", "cuda: compiled yes", "nccl ", "opencv 4.6",
                           "sentencepiece 0.1.97"})
    EXPECT_NE(r.out.find(part), std::string::npos) << part << " missing in:\n" << r.out;
}

TEST(Cli, HelpListsTheSubcommandsOfTheDesign) {
  const Result r = run("--help");
  EXPECT_EQ(r.code, 0);
  for (const char* sub : {"run", "train", "eval", "score", "generate", "params", "merge", "report", "demo", "selfcheck"})
    EXPECT_NE(r.out.find(std::string("  ") + sub), std::string::npos) << sub;
}

TEST(Cli, DemoRejectsAnUnknownSizeAsBadInput) {
#ifndef LNB_HAS_TORCH_PLUGIN
  GTEST_SKIP() << "built with LNB_WITH_TORCH=OFF";
#endif
  const Result r = run("demo --size huge --out /nonexistent/never-written");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("huge"), std::string::npos) << r.out;
}

TEST(Cli, ScoreMmeReproducesTheLavinRow) {
  const Result r = run("score mme --results-dir " + kData + "/mme/LaVIN --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["perception"].get<double>(), 963.6114445778312);
  EXPECT_EQ(j["cognition"].get<double>(), 249.64285714285714);
  EXPECT_EQ(j["tasks"]["count"]["score"].get<double>(), 88.33333333333334);
}

TEST(Cli, ScoreMmeOnTheBlankTemplateIsABadInputError) {
  // The official template has only 3 columns: the reader names the file and line.
  const Result r = run("score mme --results-dir " + kData + "/mme/Your_Results");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("existence.txt:1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 tab-separated fields"), std::string::npos) << r.out;
}

TEST(Cli, ScorePopeBothParsersAndTheJoin) {
  // Answer every question of the random split with its label, except flip the first.
  std::ifstream labels(kData + "/pope/coco_pope_random.json");
  std::string line, answers_pos, answers_rev;
  std::vector<std::string> rows;
  int i = 0;
  while (std::getline(labels, line)) {
    const auto j = nlohmann::json::parse(line);
    std::string ans = j["label"] == "yes" ? "Yes, there is." : "No";
    if (i++ == 0) ans = j["label"] == "yes" ? "No" : "Yes";
    rows.push_back(nlohmann::json{{"question_id", j["question_id"]}, {"text", ans}}.dump() + "\n");
  }
  for (const auto& r : rows) answers_pos += r;
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) answers_rev += *it;
  const auto pos = temp("pope_pos.jsonl", answers_pos), rev = temp("pope_rev.jsonl", answers_rev);
  const Result a = run("score pope --labels " + kData + "/pope/coco_pope_random.json --answers " + pos.string() + " --json");
  ASSERT_EQ(a.code, 0) << a.out;
  const auto ja = nlohmann::json::parse(a.out);
  EXPECT_EQ(ja["pope-reference"]["accuracy"].get<double>(), 2999.0 / 3000.0);
  // "Yes, there is." is not an exact "yes": the exact parser marks it unparseable.
  EXPECT_GT(ja["exact"]["unparseable_rate"].get<double>(), 0.4);
  // Reversed answers joined by id give the same numbers as positional pairing in order.
  const Result b = run("score pope --labels " + kData + "/pope/coco_pope_random.json --answers " + rev.string() +
                       " --join question_id --json");
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_EQ(nlohmann::json::parse(b.out)["pope-reference"]["f1"], ja["pope-reference"]["f1"]);
}

TEST(Cli, ScoreCaptionOnCocoFiles) {
  const auto ann = temp("ann.json", R"({"images":[{"id":1},{"id":2}],"annotations":[
    {"image_id":1,"caption":"A dog runs on the grass."},{"image_id":1,"caption":"A brown dog running."},
    {"image_id":2,"caption":"Two cats sleep on a bed."},{"image_id":2,"caption":"Cats sleeping."}]})");
  const auto res = temp("res.json", R"([{"image_id":2,"caption":"two cats on a bed"},{"image_id":1,"caption":"a dog running"}])");
  const Result r = run("score caption --annotations " + ann.string() + " --results " + res.string() + " --json --per-image");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n_images"], 2);
  EXPECT_EQ(j["per_image"][0]["image_id"], "1");  // annotation order
  EXPECT_GT(j["CIDEr"].get<double>(), 0.0);
}

TEST(Cli, TokenizeOnlyReadsStdin) {
  const auto in = temp("caps.txt", "A dog (brown).\nIt's 3:30 p.m.!\n");
  const Result r = run("score caption --tokenize-only", in.string());
  EXPECT_EQ(r.out, "a dog -lrb- brown -rrb-\nit 's 3:30 p.m.\n");
}

TEST(Cli, MalformedVqaResultsNameTheFile) {
  const auto q = temp("q.json", R"({"questions":[]})");
  const auto a = temp("a.json", R"({"annotations":[]})");
  const auto r = temp("r.json", R"({"not": "a list"})");
  const Result out = run("score vqav2 --questions " + q.string() + " --annotations " + a.string() + " --results " + r.string());
  EXPECT_EQ(out.code, 2);
  EXPECT_NE(out.out.find("r.json"), std::string::npos) << out.out;
}

}  // namespace

namespace {

TEST(Cli, FixedReferenceIdfKeepsASubsetComparable) {
  // Scoring image 1 alone with the default IDF gives CIDEr 0 (N = 1: every idf is 0);
  // with --idf-reference the document frequencies come from both images.
  const auto ann = temp("ann_idf.json", R"({"images":[{"id":1},{"id":2}],"annotations":[
    {"image_id":1,"caption":"A dog runs on the grass."},{"image_id":2,"caption":"Two cats sleep on a bed."}]})");
  const auto res = temp("res_idf.json", R"([{"image_id":1,"caption":"a dog runs"}])");
  const Result plain = run("score caption --annotations " + ann.string() + " --results " + res.string() + " --json");
  const Result fixed = run("score caption --annotations " + ann.string() + " --results " + res.string() +
                           " --json --idf-reference " + ann.string());
  ASSERT_EQ(plain.code, 0) << plain.out;
  ASSERT_EQ(fixed.code, 0) << fixed.out;
  const auto jp = nlohmann::json::parse(plain.out), jf = nlohmann::json::parse(fixed.out);
  EXPECT_EQ(jp["CIDEr"].get<double>(), 0.0);
  EXPECT_EQ(jp["idf"], "evaluated-set");
  EXPECT_GT(jf["CIDEr"].get<double>(), 0.0);
  EXPECT_EQ(jf["idf"], "fixed-reference");
}

TEST(Cli, VqaQuestionTypeIsDerivedWhenTheAnnotationLacksIt) {
  const auto q = temp("q2.json", R"({"questions":[{"question_id":1,"image_id":1,"question":"What color is the bus?"}]})");
  const auto a = temp("a2.json", R"({"annotations":[{"question_id":1,"image_id":1,"answer_type":"other",
    "answers":[{"answer":"red","answer_confidence":"yes","answer_id":1}]}]})");
  const auto r = temp("r2.json", R"([{"question_id":1,"answer":"red"}])");
  const Result out = run("score vqav2 --questions " + q.string() + " --annotations " + a.string() + " --results " +
                         r.string() + " --json");
  ASSERT_EQ(out.code, 0) << out.out;
  const auto j = nlohmann::json::parse(out.out);
  EXPECT_TRUE(j["perQuestionType"].contains("what color is the")) << out.out;
}

}  // namespace

#include "../reports/store_fixture.h"

namespace {

TEST(Cli, ReportWritesTheLeaderboardAndFailsOnARegressionWhenAsked) {
  const fs::path root = fs::temp_directory_path() / "lnb_cli_report";
  fs::remove_all(root);
  lnb::reports::test::FixtureOptions o;
  o.n_runs = 2;
  o.n_samples = 300;
  o.regress_last = 0.4;
  lnb::reports::test::write_store(root, o);
  const Result plain = run("report " + root.string() + " --out " + (root / "out").string());
  EXPECT_EQ(plain.code, 0) << plain.out;
  EXPECT_NE(plain.out.find("regressions against night-0000"), std::string::npos) << plain.out;
  EXPECT_TRUE(fs::exists(root / "out" / "leaderboard.csv"));
  EXPECT_TRUE(fs::exists(root / "out" / "index.html"));
  EXPECT_TRUE(fs::exists(root / "out" / "task_vqav2.html"));
  const Result gate = run("report " + root.string() + " --out " + (root / "out").string() + " --fail-on-regression");
  EXPECT_EQ(gate.code, 4) << gate.out;
  const Result missing = run("report " + (root / "nope").string());
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.out.find("not a folder"), std::string::npos) << missing.out;
}

// `lnbench report` makes the sample browser's thumbnails with lib/liblnbench_images.so: a
// 40 KB image (too large to embed as it is) becomes a JPEG thumbnail; without the plugin
// the report says so and embeds only the small images, as PNGs.
TEST(Cli, ReportThumbnailsComeFromTheImagePlugin) {
  const fs::path exe = fs::canonical(LNB_EXE);
  if (!fs::exists(exe.parent_path().parent_path() / "lib" / "liblnbench_images.so"))
    GTEST_SKIP() << "no image plugin in this build (no OpenCV)";
  const fs::path root = fs::temp_directory_path() / "lnb_cli_thumbnails";
  fs::remove_all(root);
  lnb::reports::test::FixtureOptions o;
  o.n_runs = 1;
  o.n_samples = 12;
  o.tasks = {"pope"};
  o.images_per_task = 3;  // image 0 is 40 KB
  lnb::reports::test::write_store(root, o);
  const Result r = run("report " + root.string() + " --out " + (root / "out").string());
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(root / "out" / "task_pope.html");
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t jpegs = 0;
  for (size_t at = page.find("data:image/jpeg;base64,"); at != std::string::npos; at = page.find("data:image/jpeg;base64,", at + 1))
    ++jpegs;
  EXPECT_EQ(jpegs, 3u) << "one thumbnail per distinct image";
  EXPECT_EQ(page.find("data:image/png"), std::string::npos);
  const Result fallback = lnb::test::run_command("LNB_IMAGE_PLUGIN=/nonexistent " + std::string(LNB_EXE) + " report " +
                                                 root.string() + " --out " + (root / "out2").string());
  ASSERT_EQ(fallback.code, 0) << fallback.out;
  EXPECT_NE(fallback.out.find("no thumbnails"), std::string::npos) << fallback.out;
  std::ifstream in2(root / "out2" / "task_pope.html");
  const std::string page2((std::istreambuf_iterator<char>(in2)), std::istreambuf_iterator<char>());
  EXPECT_EQ(page2.find("data:image/jpeg"), std::string::npos);
  EXPECT_NE(page2.find("data:image/png;base64,"), std::string::npos);
}

}  // namespace

namespace {

TEST(Cli, ParamsPrintsExactCountsPerStrategy) {
#ifndef LNB_HAS_TORCH_PLUGIN
  GTEST_SKIP() << "built with LNB_WITH_TORCH=OFF";
#endif
  const Result r = run("params --preset paper-llama2-7b --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["strategies"]["ln"]["total"].get<int64_t>(), 7'045'793'792);
  EXPECT_EQ(j["strategies"]["ln-simple"]["trainable"].get<int64_t>(), 266'240);
  const Result bad = run("params --preset nope");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("paper-llama2-7b"), std::string::npos) << bad.out;  // lists the choices
}

}  // namespace
