// POPE and MME: parsers (tasks/) and accumulators (metrics/) against the reference
// rules and LaVIN's published MME row.
#include <gtest/gtest.h>

#include <filesystem>

#include "metrics/mme.h"
#include "metrics/pope.h"
#include "tasks/answer_parsers.h"
#include "tasks/benchmark_files.h"

namespace lnb::metrics {
namespace {

using tasks::mme_parse_response;
using tasks::pope_parse_exact;
using tasks::pope_parse_reference;

TEST(PopeParser, ReferenceConsequencesFromTheSpec) {
  EXPECT_EQ(pope_parse_reference("NO"), YesNo::kYes);
  EXPECT_EQ(pope_parse_reference("Nope"), YesNo::kYes);
  EXPECT_EQ(pope_parse_reference("Not"), YesNo::kYes);
  EXPECT_EQ(pope_parse_reference("no\n"), YesNo::kYes);
  EXPECT_EQ(pope_parse_reference("No!"), YesNo::kYes);
  EXPECT_EQ(pope_parse_reference("There isn't"), YesNo::kYes);
  EXPECT_EQ(pope_parse_reference(""), YesNo::kYes);
  EXPECT_EQ(pope_parse_reference("I'm not sure."), YesNo::kNo);
  EXPECT_EQ(pope_parse_reference("Yes, but not really"), YesNo::kNo);
  EXPECT_EQ(pope_parse_reference("Yes. No."), YesNo::kYes);
  EXPECT_EQ(pope_parse_reference("No, there is not."), YesNo::kNo);
}

TEST(PopeParser, ExactMatch) {
  EXPECT_EQ(pope_parse_exact(" Yes \n"), YesNo::kYes);
  EXPECT_EQ(pope_parse_exact("no"), YesNo::kNo);
  EXPECT_EQ(pope_parse_exact("Yes."), YesNo::kUnparseable);
}

TEST(PopeMetrics, HandComputed) {
  // labels y y n n, preds y n y n -> TP 1 FN 1 FP 1 TN 1: acc .5, P .5, R .5, F1 .5, yes .5
  PopeAccumulator acc;
  const YesNo l[] = {YesNo::kYes, YesNo::kYes, YesNo::kNo, YesNo::kNo};
  const YesNo p[] = {YesNo::kYes, YesNo::kNo, YesNo::kYes, YesNo::kNo};
  for (int i = 0; i < 4; ++i) acc.add(i, l[i], p[i]);
  const auto s = acc.compute();
  EXPECT_EQ(*s.accuracy, 0.5);
  EXPECT_EQ(*s.precision, 0.5);
  EXPECT_EQ(*s.recall, 0.5);
  EXPECT_EQ(*s.f1, 0.5);
  EXPECT_EQ(*s.yes_ratio, 0.5);
}

TEST(PopeMetrics, ZeroDivisionGivesNullWithANote) {
  PopeAccumulator acc;
  acc.add(0, YesNo::kNo, YesNo::kNo);  // no yes predictions, no yes labels
  const auto s = acc.compute();
  EXPECT_FALSE(s.precision.has_value());
  EXPECT_FALSE(s.recall.has_value());
  EXPECT_FALSE(s.f1.has_value());
  EXPECT_FALSE(s.notes.empty());
  EXPECT_EQ(*s.accuracy, 1.0);
}

TEST(PopeMetrics, UnlabeledAnswersCountOnlyInYesRatio) {
  // The reference zips answers with labels (truncating) but counts yes over all answers.
  PopeAccumulator acc;
  acc.add(0, YesNo::kYes, YesNo::kYes);
  acc.add(1, std::nullopt, YesNo::kYes);
  const auto s = acc.compute();
  EXPECT_EQ(s.n_scored, 1);
  EXPECT_EQ(*s.yes_ratio, 1.0);
}

TEST(MmeParser, FourCharacterWindowWithTheNewline) {
  EXPECT_EQ(mme_parse_response("yes, there is\n"), YesNo::kYes);
  EXPECT_EQ(mme_parse_response("not sure\n"), YesNo::kNo);
  EXPECT_EQ(mme_parse_response("none\n"), YesNo::kNo);
  EXPECT_EQ(mme_parse_response("know\n"), YesNo::kNo);
  EXPECT_EQ(mme_parse_response("i think yes\n"), YesNo::kUnparseable);
  EXPECT_EQ(mme_parse_response("the answer is no\n"), YesNo::kUnparseable);
  EXPECT_EQ(mme_parse_response("  yes\n"), YesNo::kUnparseable);
  EXPECT_EQ(mme_parse_response("noyes\n"), YesNo::kNo);
  EXPECT_EQ(mme_parse_response("yesno\n"), YesNo::kYes);
  EXPECT_EQ(mme_parse_response("Yes"), YesNo::kYes);  // last line without newline
}

TEST(MmeScores, LavinPublishedRowExactly) {
  MmeAccumulator acc;
  const std::filesystem::path dir = LNB_TEST_DATA_DIR "/mme/LaVIN";
  std::vector<std::string> all = mme_perception_tasks();
  for (const auto& t : mme_cognition_tasks()) all.push_back(t);
  for (const std::string& task : all) {
    const auto lines = tasks::read_mme_task_file(dir / (task + ".txt"));
    for (size_t i = 0; i < lines.size(); ++i)
      acc.add(task, static_cast<int64_t>(i), tasks::parse_yes_no_label(lines[i].gt), mme_parse_response(lines[i].response));
  }
  const auto s = acc.compute();
  EXPECT_EQ(s.perception, 963.6114445778312);
  EXPECT_EQ(s.cognition, 249.64285714285714);
  const std::map<std::string, double> expect = {
      {"existence", 185.0}, {"count", 88.33333333333334}, {"position", 63.333333333333336}, {"color", 75.0},
      {"posters", 79.59183673469389}, {"celebrity", 47.35294117647059}, {"scene", 136.75}, {"landmark", 93.5},
      {"artwork", 87.25}, {"OCR", 107.5}, {"commonsense_reasoning", 87.14285714285714},
      {"numerical_calculation", 65.0}, {"text_translation", 47.5}, {"code_reasoning", 50.0}};
  ASSERT_EQ(s.tasks.size(), 14u);
  for (const auto& t : s.tasks) EXPECT_EQ(t.score, expect.at(t.task)) << t.task;
  // LaVIN has 1 'other' answer in landmark and 11 in commonsense_reasoning.
  for (const auto& t : s.tasks) {
    if (t.task == "landmark") {
      EXPECT_EQ(t.n_other, 1);
    }
    if (t.task == "commonsense_reasoning") {
      EXPECT_EQ(t.n_other, 11);
    }
  }
}

TEST(MmeScores, OddLineCountIsAnError) {
  MmeAccumulator acc;
  acc.add("existence", 0, YesNo::kYes, YesNo::kYes);
  EXPECT_THROW(acc.compute(), std::invalid_argument);
}

}  // namespace
}  // namespace lnb::metrics
