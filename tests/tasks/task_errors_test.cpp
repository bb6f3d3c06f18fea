// Bad data is a DataError naming file and line, or with skip_bad_samples a counted
// skip that metrics.json shows; never silent. Bad options and mismatched answers too.
#include <gtest/gtest.h>

#include "tasks/data_error.h"
#include "tasks/task.h"
#include "tests/tasks/task_fixture.h"

namespace lnb::tasks {
namespace {

using test::FixtureCopy;

// Loads and returns the DataError message ("" if none was thrown).
std::string load_error(const fs::path& root, const std::string& name, const TaskOptions& o = {}) {
  try {
    make_task(name)->load(root, o);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

void replace_in(const fs::path& p, const std::string& from, const std::string& to) {
  std::string s = test::read_file(p);
  const size_t at = s.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
  std::ofstream(p, std::ios::binary) << s;
}

TEST(TaskErrors, MissingImageFailsOrIsACountedSkip) {
  FixtureCopy fx;
  fs::remove(fx.root() / "pope" / "val2014" / "COCO_val2014_000000310196.jpg");
  const std::string msg = load_error(fx.root() / "pope", "pope");
  EXPECT_NE(msg.find("coco_pope_random.json:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not found"), std::string::npos) << msg;
  TaskOptions skip;
  skip.skip_bad_samples = true;
  auto task = make_task("pope");
  task->load(fx.root() / "pope", skip);
  EXPECT_EQ(task->skipped().size(), 3u);  // its three questions in the random split
  std::vector<Answer> answers;
  for (const auto& r : task->requests()) answers.push_back({r.id, "yes"});
  const auto m = task->score(answers).metrics;
  EXPECT_EQ(m["skipped"]["count"], 3);
  EXPECT_EQ(m["splits"]["random"]["n"], 3);
}

TEST(TaskErrors, MalformedJsonLineNamesFileAndLine) {
  FixtureCopy fx;
  std::ofstream(fx.root() / "pope" / "coco_pope_popular.json", std::ios::app) << "{\"question_id\": 7,\n";
  const std::string msg = load_error(fx.root() / "pope", "pope");
  EXPECT_NE(msg.find("coco_pope_popular.json:7"), std::string::npos) << msg;
}

TEST(TaskErrors, PathEscapingTheDataRoot) {
  FixtureCopy fx;
  replace_in(fx.root() / "pope" / "coco_pope_adversarial.json", "\"image\": \"COCO_val2014_000000310210.jpg\"",
             "\"image\": \"../../../etc/passwd\"");
  std::string msg = load_error(fx.root() / "pope", "pope");
  EXPECT_NE(msg.find("coco_pope_adversarial.json:1: field 'image'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("inside the data root"), std::string::npos) << msg;
  replace_in(fx.root() / "pope" / "coco_pope_adversarial.json", "../../../etc/passwd", "/etc/passwd");
  msg = load_error(fx.root() / "pope", "pope");
  EXPECT_NE(msg.find("a path relative to the data root"), std::string::npos) << msg;
}

TEST(TaskErrors, OddMmeQuestionCountAndBadGroundTruth) {
  FixtureCopy fx;
  const fs::path txt = fx.root() / "mme" / "MME_Benchmark_release_version" / "OCR" / "000000006040.txt";
  std::ofstream(txt, std::ios::app) << "A third question? Please answer yes or no.\tYes\n";
  std::string msg = load_error(fx.root() / "mme", "mme");
  EXPECT_NE(msg.find("000000006040.txt:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 per image"), std::string::npos) << msg;
  TaskOptions skip;
  skip.skip_bad_samples = true;
  auto task = make_task("mme");
  task->load(fx.root() / "mme", skip);
  ASSERT_EQ(task->skipped().size(), 1u);
  EXPECT_NE(task->skipped()[0].file.find("OCR"), std::string::npos);

  std::ofstream(txt, std::ios::binary) << "Is it? Please answer yes or no.\tPerhaps\nQ2\tNo\n";
  msg = load_error(fx.root() / "mme", "mme");
  EXPECT_NE(msg.find("000000006040.txt:1: field 'answer': expected Yes or No, got 'Perhaps'"), std::string::npos) << msg;
}

TEST(TaskErrors, UnknownVqaAnswerType) {
  FixtureCopy fx;
  replace_in(fx.root() / "vqav2" / "v2_mscoco_val2014_annotations.json", "\"answer_type\": \"number\"",
             "\"answer_type\": \"numeric\"");
  const std::string msg = load_error(fx.root() / "vqav2", "vqav2");
  EXPECT_NE(msg.find("v2_mscoco_val2014_annotations.json: field 'annotations[1].answer_type'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("numeric"), std::string::npos) << msg;
}

TEST(TaskErrors, MissingFilesAndBadOptions) {
  FixtureCopy fx;
  EXPECT_NE(load_error(fx.root() / "coco", "flickr30k").find("dataset_flickr30k.json"), std::string::npos);
  EXPECT_NE(load_error(fx.root() / "nowhere", "mme").find("no such directory"), std::string::npos);
  TaskOptions o;
  o.split = "testdev";
  EXPECT_THROW(make_task("vqav2")->load(fx.root() / "vqav2", o), std::invalid_argument);
  o.split = "existance";
  EXPECT_THROW(make_task("mme")->load(fx.root() / "mme", o), std::invalid_argument);
  EXPECT_THROW(make_task("gqa"), std::invalid_argument);
  // The test-dev export needs the test2015 list; its absence names the file.
  o.split = "test-dev";
  auto task = make_task("vqav2");
  task->load(fx.root() / "vqav2", o);
  fs::remove(fx.root() / "vqav2" / "v2_OpenEnded_mscoco_test2015_questions.json");
  std::vector<Answer> answers;
  for (const auto& r : task->requests()) answers.push_back({r.id, "yes"});
  try {
    task->export_submission(answers, fx.root() / "out");
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("v2_OpenEnded_mscoco_test2015_questions.json"), std::string::npos);
  }
}

TEST(TaskErrors, AnswersMustMatchRequestsOneToOne) {
  FixtureCopy fx;
  auto task = make_task("pope");
  task->load(fx.root() / "pope", {});
  std::vector<Answer> answers;
  for (const auto& r : task->requests()) answers.push_back({r.id, "yes"});
  answers.pop_back();
  EXPECT_THROW(task->score(answers), DataError);
  answers.push_back({"random/999", "no"});
  EXPECT_THROW(task->score(answers), DataError);
  answers.back() = answers.front();
  EXPECT_THROW(task->score(answers), DataError);
}

}  // namespace
}  // namespace lnb::tasks
