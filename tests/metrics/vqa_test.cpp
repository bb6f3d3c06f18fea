// VQA normalization and accuracy, hand-checked against the Python reference rules
// (specs/metrics.md §2).
#include <gtest/gtest.h>

#include "metrics/vqa.h"

namespace lnb::metrics {
namespace {

std::string norm(const std::string& s) { return vqa_process_digit_article(vqa_process_punctuation(s)); }

TEST(VqaNormalize, SpecExamples) {
  EXPECT_EQ(norm("1,000"), "1000");        // digit,digit: punctuation deleted, not spaced
  EXPECT_EQ(norm("left-hand"), "left hand");
  EXPECT_EQ(norm("3 - 4"), "3 4");          // " -" present: '-' deleted
  EXPECT_EQ(norm("a/b"), "b");              // '/' -> space exposes the article
  EXPECT_EQ(norm("yes."), "yes");
  EXPECT_EQ(norm("3.5"), "3.5");
  EXPECT_EQ(norm("e.g. this"), "eg this");
  EXPECT_EQ(norm("the an a"), "");
  EXPECT_EQ(norm("Two Dogs"), "2 dogs");
  EXPECT_EQ(norm("dont"), "don't");
  EXPECT_EQ(norm("Im"), "im");             // capitalized keys can never match after lowercasing
}

TEST(VqaNormalize, AtMost32PeriodsAreRemoved) {
  const std::string s(40, '.');
  EXPECT_EQ(vqa_process_punctuation(s), std::string(8, '.'));
}

TEST(VqaNormalize, LlavaProcessorSplitsPossessives) {
  EXPECT_EQ(vqa_evalai_process("it's"), "it 's");
  EXPECT_EQ(vqa_evalai_process("The dog's bowl"), "dog 's bowl");
  EXPECT_EQ(vqa_evalai_process("what?"), "what");
}

VqaQuestion question(const std::vector<std::string>& answers) {
  VqaQuestion q;
  q.question_id = 1;
  q.answer_type = "other";
  q.question_type = "what";
  for (size_t i = 0; i < answers.size(); ++i) q.answers.push_back({answers[i], "yes", static_cast<int64_t>(i + 1)});
  return q;
}

TEST(VqaAccuracy, ClosedFormForMatchCounts) {
  // m matching GT answers -> each of the 10 leave-one-out terms is min(1, (m or m-1)/3).
  const double expect[] = {0.0, 0.3, 0.6, 0.9, 1.0, 1.0};
  for (int m = 0; m <= 5; ++m) {
    std::vector<std::string> a(10, "cat");
    for (int k = 0; k < m; ++k) a[k] = "dog";
    EXPECT_NEAR(vqa_question_accuracy(question(a), "dog", VqaNormalization::kOfficial), expect[m], 1e-15) << m;
  }
}

TEST(VqaAccuracy, UnanimousGtIsNotNormalizedInTheCurrentVersion) {
  const auto q = question(std::vector<std::string>(10, "yes"));
  EXPECT_EQ(vqa_question_accuracy(q, "Yes", VqaNormalization::kOfficial), 0.0);
  EXPECT_EQ(vqa_question_accuracy(q, "Yes", VqaNormalization::kPre2021), 1.0);
  EXPECT_EQ(vqa_question_accuracy(q, "Yes", VqaNormalization::kLlava), 1.0);
}

TEST(VqaAccuracy, EmptyPredictionScoresZeroUnlessAnEmptyAnswerExists) {
  EXPECT_EQ(vqa_question_accuracy(question({"cat", "dog", "cat", "cat", "cat", "cat", "cat", "cat", "cat", "cat"}), "",
                                  VqaNormalization::kOfficial), 0.0);
  // Four empty GT answers: every leave-one-out term sees >= 3 matches -> 1.0.
  EXPECT_EQ(vqa_question_accuracy(question({"", "", "", "", "cat", "cat", "dog", "dog", "cat", "dog"}), "",
                                  VqaNormalization::kOfficial), 1.0);
}

TEST(VqaAccuracy, Pre2021DoesNotDigitNormalizeTheGt) {
  // GT disagree -> pre-2021 normalizes GT punctuation only: "Two" stays "Two"; the
  // prediction "two" becomes "2" (digit-article applies to it), matching nothing.
  const auto q = question({"Two", "Two", "Two", "Two", "3", "3", "3", "3", "3", "3"});
  EXPECT_EQ(vqa_question_accuracy(q, "two", VqaNormalization::kPre2021), 0.0);
  EXPECT_EQ(vqa_question_accuracy(q, "two", VqaNormalization::kOfficial), 1.0);  // both sides -> "2"
}

TEST(VqaAccuracy, RoundsHalfEvenPerTypeAndOverall) {
  VqaAccumulator acc;
  auto q1 = question({"2", "2", "2", "two", "3", "3", "3", "3", "4", "4"});  // "2": 4 matches after norm -> 1.0
  auto q2 = question({"red", "blue", "blue", "blue", "green", "green", "green", "green", "green", "green"});  // red: 0.3
  q2.question_id = 2;
  q2.answer_type = "yes/no";
  acc.add(1, q2, "red");
  acc.add(0, q1, "two");
  const VqaScores s = acc.compute();
  EXPECT_EQ(s.per_question[0].first, 1);  // annotation order by the order key
  EXPECT_EQ(s.per_question[0].second, 100.0);
  EXPECT_EQ(s.per_question[1].second, 30.0);
  EXPECT_EQ(s.overall, 65.0);
  EXPECT_EQ(s.per_answer_type.at("yes/no"), 30.0);
}

TEST(VqaQuestionType, LongestPrefixWins) {
  const std::vector<std::string> types = {"what", "what color", "what color is the", "is the"};
  EXPECT_EQ(vqa_question_type("What color is the bus?", types), "what color is the");
  EXPECT_EQ(vqa_question_type("What color are they?", types), "what color");
  EXPECT_EQ(vqa_question_type("Why?", types), "");
}

TEST(VqaNormalization, NamesRoundTrip) {
  EXPECT_EQ(to_string(parse_vqa_normalization("pre2021")), "pre2021");
  EXPECT_THROW(parse_vqa_normalization("lmms"), std::invalid_argument);
}

}  // namespace
}  // namespace lnb::metrics
