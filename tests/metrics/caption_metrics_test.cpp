// Hand-computed caption metric cases (specs/metrics.md §1.4-1.8) and the nlg-eval
// published numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "metrics/caption_metrics.h"

namespace lnb::metrics {
namespace {

CaptionScores score(const std::vector<std::pair<std::string, std::vector<std::string>>>& items) {
  CaptionAccumulator acc;
  for (size_t i = 0; i < items.size(); ++i)
    acc.add(static_cast<int64_t>(i), std::to_string(i), items[i].first, items[i].second);
  return acc.compute();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(Bleu, ExactFiveWordMatchIsNotOne) {
  // testlen = reflen = 5: ratio = (5 + 1e-15)/(5 + 1e-9) < 1, so the brevity penalty
  // exp(1 - 1/ratio) applies; with the tiny/small terms B4 = 0.9999999994791672.
  const auto s = score({{"a b c d e", {"a b c d e"}}});
  EXPECT_EQ(s.per_image[0].bleu[3], 0.9999999994791672);
}

TEST(Bleu, EmptyCandidateScoresZero) {
  const auto s = score({{"", {"a dog runs"}}, {"a cat", {"a cat sits"}}});
  EXPECT_EQ(s.per_image[0].bleu[0], 0.0);
  EXPECT_EQ(s.per_image[0].rouge_l, 0.0);
  EXPECT_EQ(s.per_image[0].cider, 0.0);
}

TEST(Bleu, ClosestReferenceLengthTiesGoToTheShorter) {
  // testlen 3; refs of length 2 and 4 are both 1 away: closest picks 2 -> ratio > 1, no
  // penalty. B1 = correct/guess = (2 + 1e-15)/(3 + 1e-9).
  const auto s = score({{"a b c", {"a b", "a b x y"}}});
  EXPECT_DOUBLE_EQ(s.per_image[0].bleu[0], (2 + 1e-15) / (3 + 1e-9));
}

TEST(RougeL, EmptyCandidateAndEmptyReferenceGiveOne) {
  // "".split(" ") == [""]: lcs([""], [""]) = 1, P = R = 1, F = 1.
  const auto s = score({{"", {""}}, {"a dog", {"a dog runs"}}});  // a non-empty ref keeps CIDEr defined
  EXPECT_EQ(s.per_image[0].rouge_l, 1.0);
}

TEST(RougeL, PrecisionAndRecallMaximizedIndependently) {
  // cand "a b c d" (4); ref1 "a b" -> lcs 2: P 0.5, R 1.0; ref2 "a b c d e f g h" -> lcs 4: P 1, R 0.5.
  // P = 1, R = 1 (each the max over refs) -> F = 1.
  const auto s = score({{"a b c d", {"a b", "a b c d e f g h"}}});
  EXPECT_EQ(s.per_image[0].rouge_l, 1.0);
}

TEST(Cider, OneImageScoresZero) {
  // ref_len = ln 1 = 0 and every idf is 0.
  const auto s = score({{"a dog", {"a dog"}}});
  EXPECT_EQ(s.cider, 0.0);
}

TEST(Cider, LengthPenaltyUsesPowNotExp) {
  // pycocoevalcap computes np.e ** x; exp(x) differs in the last bit for many deltas.
  int differ = 0;
  for (int d = 0; d < 60; ++d)
    differ += cider_length_penalty(d) != std::exp(-(d * 1.0 * d) / 72.0);
  EXPECT_GT(differ, 0);
  EXPECT_EQ(cider_length_penalty(0), 1.0);
}

TEST(Cider, TwoImagesHandComputed) {
  // Image 0: cand "a b", refs ["a b"]; image 1: cand "c", refs ["c d"].
  // N = 2, ref_len = ln 2. Every n-gram appears in exactly one image's refs: df = 1,
  // log(max(1,1)) = 0, so every weight is tf * ln 2.
  // Image 0: unigrams a, b and bigram "a b" identical in cand and ref: cos = 1 for n=0,1;
  // n=2,3 empty (norm 0 -> val 0). delta = 1 - 1 = 0. mean = (1+1+0+0)/4 = 0.5; /1; x10 = 5.
  // Image 1: cand unigram "c" (w = ln2), ref unigrams c, d (w = ln2 each), bigram "c d".
  // n=0: min(ln2, ln2)*ln2 / (ln2 * sqrt(2) ln2) = 1/sqrt(2). delta = 0 - 1 = -1:
  // penalty e^(-1/72). mean = (1/sqrt(2) * e^(-1/72))/4; x10.
  const auto s = score({{"a b", {"a b"}}, {"c", {"c d"}}});
  EXPECT_NEAR(s.per_image[0].cider, 5.0, 1e-12);
  const double img1 = (1 / std::sqrt(2.0)) * std::pow(2.718281828459045, -1.0 / 72.0) / 4 * 10;
  EXPECT_NEAR(s.per_image[1].cider, img1, 1e-12);
  EXPECT_NEAR(s.cider, (5.0 + img1) / 2, 1e-12);
}

TEST(Cider, DividesByTheNumberOfReferences) {
  // Image 0: cand "a", refs ["a", "b"]; image 1: cand "c", refs ["c"]. N = 2, ln 2 = L.
  // df(a) = df(b) = df(c) = 1 -> log 1 = 0 -> every weight tf * L; no bigrams anywhere,
  // and "length" counts bigrams, so delta = 0 and the penalty is 1.
  // Image 0: sim with "a" = (L*L)/(L*L) = 1 at n=0, 0 elsewhere; sim with "b" = 0.
  // score = [1, 0, 0, 0]; mean 0.25; / |R| = 2 -> 0.125; x10 = 1.25.
  // Image 1: [1, 0, 0, 0] -> 0.25 / 1 x 10 = 2.5.
  const auto s = score({{"a", {"a", "b"}}, {"c", {"c"}}});
  EXPECT_NEAR(s.per_image[0].cider, 1.25, 1e-15);
  EXPECT_NEAR(s.per_image[1].cider, 2.5, 1e-15);
}

TEST(Cider, AllEmptyReferencesIsAnError) {
  CaptionAccumulator acc;
  acc.add(0, "0", "a", {""});
  acc.add(1, "1", "b", {""});
  EXPECT_THROW(acc.compute(), std::invalid_argument);
}

TEST(CaptionAccumulator, ShardsMergeToTheUnshardedResult) {
  std::vector<std::pair<std::string, std::vector<std::string>>> items;
  for (int i = 0; i < 40; ++i)
    items.push_back({"a man " + std::to_string(i % 7) + " rides a horse",
                     {"a man rides a horse", "a person on a horse " + std::to_string(i % 5)}});
  CaptionAccumulator whole, even, odd;
  for (size_t i = 0; i < items.size(); ++i) {
    whole.add(static_cast<int64_t>(i), std::to_string(i), items[i].first, items[i].second);
    (i % 2 ? odd : even).add(static_cast<int64_t>(i), std::to_string(i), items[i].first, items[i].second);
  }
  odd.merge(even);  // merged out of order on purpose
  const auto a = whole.compute(), b = odd.compute();
  EXPECT_EQ(a.cider, b.cider);
  EXPECT_EQ(a.bleu, b.bleu);
  EXPECT_EQ(a.rouge_l, b.rouge_l);
}

TEST(CaptionAccumulator, FixedIdfEqualsEvaluatedSetWhenTheSetsAgree) {
  std::vector<std::vector<std::string>> refs = {{"a dog runs", "the dog runs fast"}, {"a cat sleeps"}, {"two birds"}};
  CaptionAccumulator acc;
  acc.add(0, "0", "a dog runs fast", refs[0]);
  acc.add(1, "1", "a cat", refs[1]);
  acc.add(2, "2", "birds", refs[2]);
  const FixedIdf fixed = FixedIdf::from_references(refs);
  const auto evaluated = acc.compute();
  const auto fixed_scores = acc.compute(CiderIdf::kFixedReference, &fixed);
  EXPECT_EQ(evaluated.cider, fixed_scores.cider);
  EXPECT_EQ(fixed_scores.idf_mode, "fixed-reference");
  // A subset scored against the full reference set differs from scoring it alone.
  CaptionAccumulator subset;
  subset.add(0, "0", "a dog runs fast", refs[0]);
  subset.add(1, "1", "a cat", refs[1]);
  EXPECT_NE(subset.compute().cider, subset.compute(CiderIdf::kFixedReference, &fixed).cider);
}

TEST(CaptionMetrics, NlgEvalPublishedNumbers) {
  // nlg-eval README: untokenized examples through the COCO scorers.
  const std::string dir = LNB_TEST_DATA_DIR "/caption/";
  const auto hyp = read_lines(dir + "hyp.txt"), r1 = read_lines(dir + "ref1.txt"), r2 = read_lines(dir + "ref2.txt");
  ASSERT_EQ(hyp.size(), 2u);
  CaptionAccumulator acc;
  for (size_t i = 0; i < hyp.size(); ++i) acc.add(static_cast<int64_t>(i), std::to_string(i), hyp[i], {r1[i], r2[i]});
  const auto s = acc.compute();
  auto r6 = [](double x) { return std::round(x * 1e6) / 1e6; };
  EXPECT_EQ(r6(s.bleu[0]), 0.55);
  EXPECT_EQ(r6(s.bleu[1]), 0.428174);
  EXPECT_EQ(r6(s.bleu[2]), 0.284043);
  EXPECT_EQ(r6(s.bleu[3]), 0.201143);
  EXPECT_EQ(r6(s.rouge_l), 0.522104);
  EXPECT_EQ(r6(s.cider), 1.242192);
}

}  // namespace
}  // namespace lnb::metrics
