// Readers: real files parse; malformed files give a DataError naming file, line, field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tasks/benchmark_files.h"
#include "tasks/data_error.h"

namespace lnb::tasks {
namespace {

namespace fs = std::filesystem;

fs::path write_temp(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "lnb_tasks_test";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

template <typename F>
DataErrorInfo expect_data_error(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.info();
  }
  ADD_FAILURE() << "no DataError";
  return {};
}

TEST(PopeFiles, RealLabelFilesParse) {
  for (const char* split : {"random", "popular", "adversarial"}) {
    const auto labels = read_pope_labels(fs::path(LNB_TEST_DATA_DIR) / "pope" / (std::string("coco_pope_") + split + ".json"));
    EXPECT_EQ(labels.size(), 3000u) << split;
    EXPECT_TRUE(labels[0].label == "yes" || labels[0].label == "no");
  }
}

TEST(PopeFiles, MalformedLineNamesFileAndLine) {
  const auto p = write_temp("bad.jsonl", "{\"question_id\": 1, \"image\": \"a\", \"text\": \"t\", \"label\": \"yes\"}\n{oops\n");
  const auto info = expect_data_error([&] { read_pope_labels(p); });
  EXPECT_EQ(info.file, p.string());
  EXPECT_EQ(info.line, 2);
}

TEST(PopeFiles, NumericOverflowIsADataErrorNotACrash) {
  // Found by fuzz_pope_files: nlohmann throws out_of_range, not parse_error, here.
  const auto p = write_temp("overflow.jsonl", "{\"question_id\": 77777777777777777e777777777777777777}\n");
  const auto info = expect_data_error([&] { read_pope_labels(p); });
  EXPECT_EQ(info.line, 1);
}

TEST(PopeFiles, WrongTypeNamesTheField) {
  const auto p = write_temp("badtype.jsonl", "{\"question_id\": \"x\", \"image\": \"a\", \"text\": \"t\", \"label\": \"yes\"}\n");
  const auto info = expect_data_error([&] { read_pope_labels(p); });
  EXPECT_EQ(info.field, "question_id");
  EXPECT_EQ(info.expected, "an integer");
}

TEST(MmeFiles, TemplateHasAllQuestionsAndThreeColumns) {
  const auto lines = read_mme_task_file(fs::path(LNB_TEST_DATA_DIR) / "mme/LaVIN/existence.txt");
  EXPECT_EQ(lines.size(), 60u);
  EXPECT_EQ(lines[0].response.back(), '\n');
}

TEST(MmeFiles, ATabInTheResponseIsAnError) {
  const auto p = write_temp("existence.txt", "a.jpg\tIs there?\tYes\tyes\textra\n");
  const auto info = expect_data_error([&] { read_mme_task_file(p); });
  EXPECT_EQ(info.line, 1);
  EXPECT_NE(info.got.find("5 fields"), std::string::npos);
}

TEST(MmeFiles, CrLfBecomesNewlineLikePythonTextMode) {
  const auto p = write_temp("crlf.txt", "a.jpg\tq\tYes\tyes\r\nb.jpg\tq\tNo\tno");
  const auto lines = read_mme_task_file(p);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].response, "yes\n");
  EXPECT_EQ(lines[1].response, "no");
}

TEST(CaptionFiles, ResultForUnknownImageIsAnError) {
  const auto ann = write_temp("ann.json", R"({"images":[{"id":1}],"annotations":[{"image_id":1,"caption":"a dog"}]})");
  const auto res = write_temp("res.json", R"([{"image_id":2,"caption":"a cat"}])");
  const auto info = expect_data_error([&] { read_coco_caption_inputs(ann, res); });
  EXPECT_EQ(info.field, "[0].image_id");
}

TEST(CaptionFiles, TwoResultsForOneImageIsAnError) {
  const auto ann = write_temp("ann3.json", R"({"images":[{"id":1}],"annotations":[{"image_id":1,"caption":"a dog"}]})");
  const auto res = write_temp("res3.json", R"([{"image_id":1,"caption":"a"},{"image_id":1,"caption":"b"}])");
  const auto info = expect_data_error([&] { read_coco_caption_inputs(ann, res); });
  EXPECT_EQ(info.field, "[1].image_id");
  EXPECT_EQ(info.expected, "one caption per image");
}

TEST(CaptionFiles, EvaluationOrderIsAnnotationOrder) {
  const auto ann = write_temp("ann2.json",
      R"({"images":[{"id":3},{"id":1},{"id":2}],"annotations":[{"image_id":1,"caption":"x"},{"image_id":3,"caption":"y"},{"image_id":3,"caption":"z"}]})");
  const auto res = write_temp("res2.json", R"([{"image_id":1,"caption":"a"},{"image_id":3,"caption":"b"}])");
  const auto in = read_coco_caption_inputs(ann, res);
  ASSERT_EQ(in.image_ids.size(), 2u);
  EXPECT_EQ(in.image_ids[0], "3");
  EXPECT_EQ(in.references[0], (std::vector<std::string>{"y", "z"}));
}

TEST(VqaFiles, ResultsMustCoverEveryQuestion) {
  const auto q = write_temp("q.json", R"({"questions":[{"question_id":1,"image_id":1,"question":"What?"}]})");
  const auto a = write_temp("a.json", R"({"annotations":[{"question_id":1,"image_id":1,"question_type":"what","answer_type":"other","multiple_choice_answer":"x","answers":[{"answer":"x","answer_confidence":"yes","answer_id":1}]}]})");
  const auto r = write_temp("r.json", "[]");
  const auto info = expect_data_error([&] { read_vqa_inputs(q, a, r); });
  EXPECT_EQ(info.field, "question_id");
  const auto bad_type = write_temp("a2.json", R"({"annotations":[{"question_id":1,"image_id":1,"question_type":"what","answer_type":"color","answers":[{"answer":"x"}]}]})");
  const auto info2 = expect_data_error([&] { read_vqa_inputs(q, bad_type, r); });
  EXPECT_EQ(info2.field, "annotations[0].answer_type");
}

}  // namespace
}  // namespace lnb::tasks
