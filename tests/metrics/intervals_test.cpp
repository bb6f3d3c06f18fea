// Intervals (metrics/intervals.h): the generator and quantiles against their published
// definitions, coverage by simulation, and every fast bootstrap against a slow twin that
// rebuilds the resampled benchmark and scores it with the real accumulator.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "metrics/intervals.h"
#include "metrics/mme.h"
#include "metrics/pope.h"

namespace lnb::metrics {
namespace {

TEST(Intervals, SplitMix64MatchesTheReferenceStream) {
  // Vigna's splitmix64.c with x = 0: the first outputs.
  SplitMix64 r(0);
  EXPECT_EQ(r.next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(r.next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(r.next(), 0x06c45d188009454fULL);
}

TEST(Intervals, BoundedDrawMatchesLemiresMethodOverTheWhole64BitRange) {
  // Python's exact integers: m = next() * n; reject while (m mod 2^64) < (2^64 - n) mod n; m >> 64.
  SplitMix64 r(0);
  EXPECT_EQ(r.below(0xfffffffffffffff5ULL), 16294208416658607525ULL);
  EXPECT_EQ(r.below(3), 1u);
  EXPECT_EQ(r.below(1000000000000000007ULL), 26433771592597817ULL);
  EXPECT_EQ(r.below((1ULL << 63) + 12345), 8954805688390283207ULL);
  EXPECT_EQ(r.below(1000), 106u);
}

TEST(Intervals, BoundedDrawIsUniform) {
  SplitMix64 r(7);
  std::vector<int> counts(7, 0);
  const int n = 70000;
  for (int i = 0; i < n; ++i) ++counts[r.below(7)];
  double chi2 = 0;
  for (int c : counts) chi2 += (c - n / 7.0) * (c - n / 7.0) / (n / 7.0);
  EXPECT_LT(chi2, 22.46);  // chi-square, 6 degrees of freedom, p = 0.001
  EXPECT_THROW(r.below(0), std::invalid_argument);
}

TEST(Intervals, QuantilesAreNumpyLinear) {
  // numpy.percentile([1, 2, 3, 4], [2.5, 50, 97.5]) = [1.075, 2.5, 3.925]
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(quantile_linear(v, 0.025), 1.075);
  EXPECT_DOUBLE_EQ(quantile_linear(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile_linear(v, 0.975), 3.925);
  EXPECT_DOUBLE_EQ(quantile_linear({5}, 0.975), 5);
}

TEST(Intervals, WilsonMatchesTheClosedForm) {
  EXPECT_NEAR(normal_quantile_two_sided(0.95), 1.959963984540054, 1e-12);
  // statsmodels proportion_confint(8, 10, method="wilson") = (0.4901625, 0.9433178)
  const auto w = wilson_interval(8, 10);
  ASSERT_TRUE(w);
  EXPECT_NEAR(w->lo, 0.4901625, 1e-6);
  EXPECT_NEAR(w->hi, 0.9433178, 1e-6);
  const auto zero = wilson_interval(0, 20);
  EXPECT_EQ(zero->lo, 0);
  EXPECT_NEAR(zero->hi, 0.1611252, 1e-6);  // the closed form: (0, 0.16112516)
  EXPECT_FALSE(wilson_interval(0, 0));
  EXPECT_THROW(wilson_interval(3, 2), std::invalid_argument);
}

TEST(Intervals, WilsonCoversNinetyFivePercentBySimulation) {
  std::mt19937_64 gen(11);
  for (double p : {0.1, 0.3, 0.5, 0.8}) {
    for (int n : {40, 200}) {
      std::binomial_distribution<int> draw(n, p);
      int covered = 0;
      const int trials = 4000;
      for (int t = 0; t < trials; ++t) {
        const auto w = wilson_interval(draw(gen), n);
        covered += w->lo <= p && p <= w->hi;
      }
      const double coverage = static_cast<double>(covered) / trials;
      EXPECT_GT(coverage, 0.925) << "p " << p << " n " << n;
      EXPECT_LT(coverage, 0.975) << "p " << p << " n " << n;
    }
  }
}

TEST(Intervals, BootstrapMeanCoversBySimulation) {
  // The mean of an exponential(1) sample of 150; a percentile bootstrap covers the true
  // mean about 94 % of the time (a skewed law, slightly under).
  std::mt19937_64 gen(5);
  std::exponential_distribution<double> draw(1.0);
  int covered = 0, too_narrow_if_wrong = 0;
  const int trials = 400;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> x(150);
    for (double& v : x) v = draw(gen);
    BootstrapOptions o;
    o.resamples = 500;
    o.seed = bootstrap_seed(99, "trial" + std::to_string(t));
    const auto ci = bootstrap_mean(x, o);
    ASSERT_TRUE(ci);
    covered += ci->lo <= 1.0 && 1.0 <= ci->hi;
    too_narrow_if_wrong += (ci->hi - ci->lo) < 0.1;
  }
  const double coverage = static_cast<double>(covered) / trials;
  EXPECT_GT(coverage, 0.90);
  EXPECT_LT(coverage, 0.98);
  EXPECT_EQ(too_narrow_if_wrong, 0);
}

// The slow twin: draw exactly the fast path's indices, materialize the resample and
// score it from scratch.
std::vector<double> sorted(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(Intervals, BootstrapMeanEqualsANaiveResampler) {
  std::mt19937_64 gen(3);
  std::uniform_real_distribution<double> u(0, 100);
  std::vector<double> x(257);
  for (double& v : x) v = std::round(u(gen) / 10) * 10;
  BootstrapOptions o;
  o.resamples = 300;
  o.seed = 1234;
  const auto fast = bootstrap_mean(x, o);
  SplitMix64 rng(o.seed);
  std::vector<double> means;
  for (int r = 0; r < o.resamples; ++r) {
    double s = 0;
    for (size_t i = 0; i < x.size(); ++i) s += x[rng.below(x.size())];
    means.push_back(s / static_cast<double>(x.size()));
  }
  means = sorted(means);
  // Values are multiples of 10, so every sum is exact whatever its order: equal to the bit.
  EXPECT_EQ(fast->lo, quantile_linear(means, 0.025));
  EXPECT_EQ(fast->hi, quantile_linear(means, 0.975));
}

TEST(Intervals, PopeBootstrapEqualsRescoringEachResample) {
  std::mt19937_64 gen(17);
  struct R {
    std::optional<YesNo> label;
    YesNo pred;
  };
  std::vector<std::vector<R>> splits(3);
  std::vector<PopeAccumulator> accs(3);
  for (size_t s = 0; s < 3; ++s) {
    const int n = 60 + 20 * static_cast<int>(s);
    for (int i = 0; i < n; ++i) {
      const YesNo label = gen() % 2 ? YesNo::kYes : YesNo::kNo;
      const int roll = static_cast<int>(gen() % 10);
      const YesNo pred = roll < 7 ? label : roll < 9 ? (label == YesNo::kYes ? YesNo::kNo : YesNo::kYes) : YesNo::kUnparseable;
      const std::optional<YesNo> l = i == n - 1 && s == 2 ? std::nullopt : std::optional<YesNo>(label);
      splits[s].push_back({l, pred});
      accs[s].add(i, l, pred);
    }
  }
  BootstrapOptions o;
  o.resamples = 200;
  o.seed = 42;
  const PopeIntervals fast = pope_intervals({&accs[0], &accs[1], &accs[2]}, o);

  SplitMix64 rng(o.seed);
  std::vector<std::vector<double>> f1(3);
  std::vector<double> mean;
  for (int r = 0; r < o.resamples; ++r) {
    double sum = 0;
    for (size_t s = 0; s < 3; ++s) {
      PopeAccumulator a;
      for (size_t i = 0; i < splits[s].size(); ++i) {
        const R& row = splits[s][rng.below(splits[s].size())];
        a.add(static_cast<int64_t>(i), row.label, row.pred);
      }
      const double v = *a.compute().f1;
      f1[s].push_back(v);
      sum += v;
    }
    mean.push_back(sum / 3);
  }
  for (size_t s = 0; s < 3; ++s) {
    const std::vector<double> d = sorted(f1[s]);
    ASSERT_TRUE(fast.f1[s]);
    EXPECT_EQ(fast.f1[s]->lo, quantile_linear(d, 0.025));
    EXPECT_EQ(fast.f1[s]->hi, quantile_linear(d, 0.975));
    const PopeScores point = accs[s].compute();
    EXPECT_LE(fast.f1[s]->lo, *point.f1);
    EXPECT_GE(fast.f1[s]->hi, *point.f1);
    const auto w = wilson_interval(point.tp + point.tn, point.n_scored);
    EXPECT_EQ(fast.accuracy[s]->lo, w->lo);
  }
  const std::vector<double> dm = sorted(mean);
  EXPECT_EQ(fast.f1_mean->lo, quantile_linear(dm, 0.025));
  EXPECT_EQ(fast.f1_mean->hi, quantile_linear(dm, 0.975));
}

TEST(Intervals, PopeF1UndefinedOnMostResamplesHasNoInterval) {
  PopeAccumulator a;  // never a yes: precision undefined everywhere
  for (int i = 0; i < 30; ++i) a.add(i, YesNo::kNo, YesNo::kNo);
  const PopeIntervals ci = pope_intervals({&a}, BootstrapOptions{});
  EXPECT_FALSE(ci.f1[0]);
  EXPECT_FALSE(ci.f1_mean);
  EXPECT_TRUE(ci.accuracy[0]);
}

TEST(Intervals, MmeBootstrapResamplesWholeImagesLikeTheEvalTool) {
  std::mt19937_64 gen(23);
  struct Pair {
    YesNo gt[2], pred[2];
  };
  const std::vector<std::string> subtasks = {"existence", "count", "OCR", "code_reasoning"};
  std::map<std::string, std::vector<Pair>> pairs;
  MmeAccumulator acc;
  for (const std::string& t : subtasks) {
    const int images = 15 + static_cast<int>(gen() % 10);
    for (int i = 0; i < images; ++i) {
      Pair p{{YesNo::kYes, YesNo::kNo}, {}};
      for (int k = 0; k < 2; ++k) {
        const int roll = static_cast<int>(gen() % 10);
        p.pred[k] = roll < 6 ? p.gt[k] : roll < 9 ? (p.gt[k] == YesNo::kYes ? YesNo::kNo : YesNo::kYes) : YesNo::kUnparseable;
        acc.add(t, 2 * i + k, p.gt[k], p.pred[k]);
      }
      pairs[t].push_back(p);
    }
  }
  const MmeScores scores = acc.compute();
  BootstrapOptions o;
  o.resamples = 150;
  o.seed = 8;
  const MmeIntervals fast = mme_intervals(scores, o);

  // Slow twin: the same draws (subtasks in the official order the scores hold them), each
  // resample rebuilt as eval_tool lines and scored by a fresh accumulator. Both add the
  // subtask scores in that order from integer counts: equal to the bit.
  SplitMix64 rng(o.seed);
  std::vector<double> perception, cognition;
  for (int r = 0; r < o.resamples; ++r) {
    MmeAccumulator a;
    for (const MmeTaskScores& t : scores.tasks) {
      const std::vector<Pair>& ps = pairs[t.task];
      for (size_t i = 0; i < ps.size(); ++i) {
        const Pair& p = ps[rng.below(ps.size())];
        for (int k = 0; k < 2; ++k) a.add(t.task, static_cast<int64_t>(2 * i) + k, p.gt[k], p.pred[k]);
      }
    }
    const MmeScores s = a.compute();
    perception.push_back(s.perception);
    cognition.push_back(s.cognition);
  }
  perception = sorted(perception);
  cognition = sorted(cognition);
  EXPECT_EQ(fast.perception->lo, quantile_linear(perception, 0.025));
  EXPECT_EQ(fast.perception->hi, quantile_linear(perception, 0.975));
  EXPECT_EQ(fast.cognition->lo, quantile_linear(cognition, 0.025));
  EXPECT_EQ(fast.cognition->hi, quantile_linear(cognition, 0.975));
  EXPECT_LE(fast.perception->lo, scores.perception);
  EXPECT_GE(fast.perception->hi, scores.perception);
}

TEST(Intervals, MmeGroupWithoutSubtasksHasNoInterval) {
  MmeAccumulator acc;
  for (int i = 0; i < 20; ++i) acc.add("color", i, i % 2 ? YesNo::kYes : YesNo::kNo, YesNo::kYes);
  const MmeIntervals ci = mme_intervals(acc.compute(), BootstrapOptions{});
  EXPECT_TRUE(ci.perception);
  EXPECT_FALSE(ci.cognition);
}

}  // namespace
}  // namespace lnb::metrics
