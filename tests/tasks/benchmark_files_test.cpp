// Readers: real files parse; malformed files give a DataError naming file, line, field.
// Writers: what they write reads back field for field (the real POPE files too).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <unordered_map>

#include "tasks/benchmark_files.h"
#include "tasks/data_error.h"
#include "tasks/task.h"

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

// --- Writers -----------------------------------------------------------------------

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / "lnb_tasks_writers" / name;
  fs::remove_all(d);
  return d;
}

TEST(Writers, RealPopeFilesReadBackTheSameAfterWriting) {
  const fs::path dir = temp_dir("pope");
  for (const char* split : {"random", "popular", "adversarial"}) {
    const auto labels = read_pope_labels(fs::path(LNB_TEST_DATA_DIR) / "pope" / (std::string("coco_pope_") + split + ".json"));
    const fs::path out = dir / "sub" / (std::string("coco_pope_") + split + ".json");
    write_pope_labels(out, labels);
    const auto again = read_pope_labels(out);
    ASSERT_EQ(again.size(), labels.size()) << split;
    for (size_t i = 0; i < labels.size(); ++i) {
      EXPECT_EQ(again[i].question_id, labels[i].question_id);
      EXPECT_EQ(again[i].image, labels[i].image);
      EXPECT_EQ(again[i].text, labels[i].text);
      EXPECT_EQ(again[i].label, labels[i].label);
    }
  }
}

TEST(Writers, VqaQuestionsAndAnnotationsReadBackFieldForField) {
  const fs::path dir = temp_dir("vqa");
  const std::vector<VqaQuestionText> qs = {{458752000, 458752, "What is this \"photo\" of?"},
                                           {262148001, 262148, "How many caf\u00e9s are there?"}};
  std::vector<VqaAnnotation> anns(2);
  for (size_t i = 0; i < 2; ++i) {
    anns[i].question.question_id = qs[i].question_id;
    anns[i].image_id = qs[i].image_id;
    anns[i].question.question_type = i ? "how many" : "what is this";
    anns[i].question.answer_type = i ? "number" : "other";
    for (int64_t a = 1; a <= 10; ++a)
      anns[i].question.answers.push_back({a % 3 ? "two" : "2", a % 4 ? "yes" : "maybe", a});
    anns[i].multiple_choice_answer = "two";
  }
  write_vqa_questions(dir / "q.json", "val2014", qs);
  write_vqa_annotations(dir / "a.json", "val2014", anns);
  const auto q2 = read_vqa_questions(dir / "q.json");
  ASSERT_EQ(q2.size(), 2u);
  std::unordered_map<int64_t, std::string> texts;
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(q2[i].question_id, qs[i].question_id);
    EXPECT_EQ(q2[i].image_id, qs[i].image_id);
    EXPECT_EQ(q2[i].question, qs[i].question);
    texts[q2[i].question_id] = q2[i].question;
  }
  const auto a2 = read_vqa_annotations(dir / "a.json", texts);
  ASSERT_EQ(a2.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(a2[i].question_id, anns[i].question.question_id);
    EXPECT_EQ(a2[i].question_type, anns[i].question.question_type);
    EXPECT_EQ(a2[i].answer_type, anns[i].question.answer_type);
    ASSERT_EQ(a2[i].answers.size(), 10u);
    for (size_t k = 0; k < 10; ++k) {
      EXPECT_EQ(a2[i].answers[k].answer, anns[i].question.answers[k].answer);
      EXPECT_EQ(a2[i].answers[k].confidence, anns[i].question.answers[k].confidence);
      EXPECT_EQ(a2[i].answers[k].answer_id, anns[i].question.answers[k].answer_id);
    }
  }
}

TEST(Writers, MmeQuestionFileReadsBackAndRefusesWhatItCannotHold) {
  const fs::path dir = temp_dir("mme");
  const std::vector<std::pair<std::string, std::string>> qas = {{"Is there a dog in this image? Please answer yes or no.", "Yes"},
                                                                {"Is the \u00e9clair red? Please answer yes or no.", "No"}};
  write_mme_questions(dir / "000000006040.txt", qas);
  EXPECT_EQ(read_mme_questions(dir / "000000006040.txt"), qas);
  EXPECT_THROW(write_mme_questions(dir / "bad.txt", {{"a\tb", "Yes"}}), std::invalid_argument);
  EXPECT_THROW(write_mme_questions(dir / "bad.txt", {{"line\nbreak", "No"}}), std::invalid_argument);
  EXPECT_THROW(write_mme_questions(dir / "bad.txt", {{"Is it?", "Maybe"}}), std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir / "bad.txt"));
}

TEST(Writers, KarpathySplitFileLoadsThroughTheCaptionAdapters) {
  const fs::path dir = temp_dir("karpathy");
  std::vector<KarpathyImage> coco(3), flickr(2);
  for (int i = 0; i < 3; ++i)
    coco[static_cast<size_t>(i)] = {i == 2 ? "train2014" : "val2014", "COCO_val2014_00000000000" + std::to_string(i) + ".jpg",
                                     i == 2 ? "train" : "test", 100 + i, {"A red circle.", "A Circle, red: on grey."}};
  flickr[0] = {"", "1000.jpg", "test", std::nullopt, {"Two squares."}};
  flickr[1] = {"", "1001.jpg", "test", std::nullopt, {"A star.", "One star", "a yellow star"}};
  write_karpathy_captions(dir / "coco" / "dataset_coco.json", "coco", coco);
  write_karpathy_captions(dir / "flickr30k" / "dataset_flickr30k.json", "flickr30k", flickr);
  for (const auto& im : coco) {
    fs::create_directories(dir / "coco" / im.filepath);
    std::ofstream(dir / "coco" / im.filepath / im.filename) << "jpeg";
  }
  fs::create_directories(dir / "flickr30k" / "flickr30k-images");
  for (const auto& im : flickr) std::ofstream(dir / "flickr30k" / "flickr30k-images" / im.filename) << "jpeg";
  for (const auto& [name, images] : {std::pair{"coco", &coco}, std::pair{"flickr30k", &flickr}}) {
    SCOPED_TRACE(name);
    const auto task = make_task(name);
    task->load(dir / name, {});
    std::vector<const KarpathyImage*> test_images;
    for (const auto& im : *images)
      if (im.split == "test") test_images.push_back(&im);
    ASSERT_EQ(task->requests().size(), test_images.size());
    std::vector<Answer> answers;
    for (const Request& r : task->requests()) answers.push_back({r.id, "a red circle"});
    const TaskScores s = task->score(answers);
    for (size_t i = 0; i < test_images.size(); ++i) {
      EXPECT_EQ(task->requests()[i].image.filename(), test_images[i]->filename);
      EXPECT_EQ(s.samples[i].reference, nlohmann::ordered_json(test_images[i]->sentences));
    }
  }
  // The tokens field: lowercased, . , : removed.
  std::ifstream in(dir / "coco" / "dataset_coco.json");
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["images"][0]["sentences"][1]["tokens"], nlohmann::json({"a", "circle", "red", "on", "grey"}));
  EXPECT_EQ(j["images"][1]["sentids"], nlohmann::json({2, 3}));
  EXPECT_EQ(j["images"][2]["cocoid"], 102);
  EXPECT_FALSE(nlohmann::json::parse(std::ifstream(dir / "flickr30k" / "dataset_flickr30k.json"))["images"][0].contains("filepath"));
}

}  // namespace
}  // namespace lnb::tasks
