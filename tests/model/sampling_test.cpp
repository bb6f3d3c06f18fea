// Sampling (model/sampling.h) against slow references: the filtered distribution equals a
// double-precision transcription of HF's temperature / top-k / top-p warpers; sampled
// frequencies match it (chi-square); a request's sampled answer is the same alone, in any
// batch, in any order and through the reference decoder; min_new_tokens holds EOS back.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "model/generate.h"
#include "model/sampling.h"
#include "tiny_llava.h"

using namespace lnb::model;

namespace {

using namespace lnb::model::test;

// HF's warpers in double precision, one row: the probabilities after temperature, top-k
// (ties with the k-th kept) and top-p (ascending cumulative mass <= 1 - p removed, the
// most likely token always kept).
std::vector<double> reference_probs(const std::vector<float>& logits, const SamplingOptions& o) {
  const size_t V = logits.size();
  std::vector<double> l(V);
  for (size_t i = 0; i < V; ++i) l[i] = static_cast<double>(logits[i]) / o.temperature;
  std::vector<bool> keep(V, true);
  if (o.top_k > 0 && static_cast<size_t>(o.top_k) < V) {
    std::vector<double> s = l;
    std::sort(s.begin(), s.end(), std::greater<>());
    const double kth = s[static_cast<size_t>(o.top_k) - 1];
    for (size_t i = 0; i < V; ++i) keep[i] = l[i] >= kth;
  }
  auto softmax = [&](const std::vector<bool>& k) {
    double mx = -INFINITY, z = 0;
    for (size_t i = 0; i < V; ++i)
      if (k[i]) mx = std::max(mx, l[i]);
    std::vector<double> p(V, 0);
    for (size_t i = 0; i < V; ++i)
      if (k[i]) z += (p[i] = std::exp(l[i] - mx));
    for (double& v : p) v /= z;
    return p;
  };
  if (o.top_p < 1) {
    const std::vector<double> p = softmax(keep);
    std::vector<size_t> order(V);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return (keep[a] ? l[a] : -INFINITY) < (keep[b] ? l[b] : -INFINITY); });
    double cum = 0;
    for (size_t j = 0; j + 1 < V; ++j) {
      cum += p[order[j]];
      if (cum <= 1 - o.top_p + 1e-12) keep[order[j]] = false;
    }
  }
  return softmax(keep);
}

std::vector<float> random_logits(size_t V, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> n(0, 2);
  std::vector<float> v(V);
  for (float& x : v) x = n(g);
  return v;
}

TEST(Sampling, FilteredDistributionEqualsHfWarpersInDoublePrecision) {
  for (const SamplingOptions& o : {SamplingOptions{1.0, 0, 1.0, 0}, SamplingOptions{0.2, 50, 1.0, 0},
                                   SamplingOptions{0.7, 5, 1.0, 0}, SamplingOptions{1.3, 0, 0.8, 0},
                                   SamplingOptions{0.9, 12, 0.5, 0}, SamplingOptions{1.0, 1, 1.0, 0}}) {
    for (uint64_t seed : {1u, 2u, 3u}) {
      SCOPED_TRACE("T " + std::to_string(o.temperature) + " k " + std::to_string(o.top_k) + " p " + std::to_string(o.top_p));
      const std::vector<float> l = random_logits(64, seed);
      const at::Tensor got = filter_logits(at::tensor(l).view({1, -1}), o).softmax(-1).to(at::kDouble)[0];
      const std::vector<double> want = reference_probs(l, o);
      for (size_t i = 0; i < l.size(); ++i) {
        EXPECT_NEAR(got[static_cast<int64_t>(i)].item<double>(), want[i], 1e-6) << i;
        EXPECT_EQ(got[static_cast<int64_t>(i)].item<double>() == 0, want[i] == 0) << i;
      }
    }
  }
}

// Chi-square goodness of fit of 60000 draws (one per request key) against the filtered
// softmax, at alpha = 1e-4 (Wilson-Hilferty quantile); removed tokens are never drawn.
TEST(Sampling, DrawFrequenciesMatchTheFilteredSoftmax) {
  const std::vector<float> l = random_logits(16, 11);
  const SamplingOptions o{0.8, 10, 0.9, 1234};
  const std::vector<double> p = reference_probs(l, o);
  const int64_t N = 60000;
  std::vector<double> u(static_cast<size_t>(N));
  for (int64_t k = 0; k < N; ++k) u[static_cast<size_t>(k)] = sample_uniform(o.seed, static_cast<uint64_t>(k), 0);
  const at::Tensor logits = at::tensor(l).view({1, -1}).expand({N, -1}).contiguous();
  const at::Tensor tokens = choose_tokens(logits, o, at::tensor(u, at::kDouble));
  std::vector<int64_t> counts(l.size(), 0);
  const int64_t* t = tokens.data_ptr<int64_t>();
  for (int64_t i = 0; i < N; ++i) ++counts[static_cast<size_t>(t[i])];
  double chi2 = 0;
  int support = 0;
  for (size_t i = 0; i < l.size(); ++i) {
    if (p[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "a removed token was drawn: " << i;
      continue;
    }
    ++support;
    const double e = p[i] * static_cast<double>(N);
    chi2 += (static_cast<double>(counts[i]) - e) * (static_cast<double>(counts[i]) - e) / e;
  }
  ASSERT_GE(support, 3);
  const double df = support - 1, z = 3.719;  // one-sided 1e-4
  const double critical = df * std::pow(1 - 2 / (9 * df) + z * std::sqrt(2 / (9 * df)), 3);
  EXPECT_LT(chi2, critical) << "df " << df;
  // A uniform distribution is rejected by the same test: the test has power.
  double chi2_flat = 0;
  for (size_t i = 0; i < l.size(); ++i)
    if (p[i] > 0) chi2_flat += std::pow(static_cast<double>(counts[i]) - N / support, 2) / (N / support);
  EXPECT_GT(chi2_flat, critical);
}

TEST(Sampling, UniformsDependOnSeedKeyAndStepOnly) {
  EXPECT_EQ(sample_uniform(1, 2, 3), sample_uniform(1, 2, 3));
  EXPECT_NE(sample_uniform(1, 2, 3), sample_uniform(1, 2, 4));
  EXPECT_NE(sample_uniform(1, 2, 3), sample_uniform(1, 3, 3));
  EXPECT_NE(sample_uniform(1, 2, 3), sample_uniform(2, 2, 3));
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double v = sample_uniform(9, static_cast<uint64_t>(i), i % 7);
    ASSERT_GE(v, 0.0);
    ASSERT_LT(v, 1.0);
    sum += v;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.005);
  EXPECT_EQ(sample_key("vqav2/262148000"), sample_key("vqav2/262148000"));
  EXPECT_NE(sample_key("vqav2/262148000"), sample_key("vqav2/262148001"));
}

TEST(Sampling, OutOfRangeOptionsAreRefusedByName) {
  Fixture f;
  Generator gen(f.model, f.tok, 400, 401);
  GenerationRequest q{f.tok.encode_with_image("a red circle"), {}};
  for (const auto& [o, name] : {std::pair{SamplingOptions{-1, 0, 1, 0}, "temperature"}, std::pair{SamplingOptions{1, -2, 1, 0}, "top_k"},
                                std::pair{SamplingOptions{1, 0, 0, 0}, "top_p"}, std::pair{SamplingOptions{1, 0, 1.5, 0}, "top_p"}}) {
    GenerationOptions opt;
    opt.sampling = o;
    try {
      gen.generate({q}, opt);
      ADD_FAILURE() << name << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(name, 0), 0u) << e.what();
    }
  }
}

std::vector<GenerationRequest> keyed_requests(Fixture& f) {
  std::vector<GenerationRequest> reqs = mixed_requests(f);
  for (size_t i = 0; i < reqs.size(); ++i) reqs[i].sample_key = sample_key("request-" + std::to_string(i));
  return reqs;
}

// A request's sampled answer is its own: alone, in every batch composition and order,
// and through the reference decoder, the same tokens.
TEST(Sampling, SampledAnswersAreTheSameAtAnyBatchSizeAndOrder) {
  Fixture f;
  Generator gen(f.model, f.tok, 400, 401);
  GenerationOptions opt;
  opt.max_new_tokens = 12;
  opt.stop_at_eos = false;
  opt.sampling = {1.0, 40, 0.95, 7};
  const auto reqs = keyed_requests(f);
  std::vector<GenerationResult> single;
  for (const auto& r : reqs) single.push_back(gen.generate({r}, opt)[0]);
  const auto all = gen.generate(reqs, opt);
  std::vector<GenerationRequest> reversed(reqs.rbegin(), reqs.rend());
  const auto back = gen.generate(reversed, opt);
  const auto ref = gen.generate_reference(reqs, opt);
  for (size_t i = 0; i < reqs.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(all[i].tokens, single[i].tokens);
    EXPECT_EQ(back[reqs.size() - 1 - i].tokens, single[i].tokens);
    EXPECT_EQ(ref[i].tokens, single[i].tokens);
  }
  for (size_t B = 2; B < reqs.size(); B += 3) {
    const std::vector<GenerationRequest> part(reqs.begin() + 1, reqs.begin() + 1 + static_cast<int64_t>(B));
    const auto got = gen.generate(part, opt);
    for (size_t i = 0; i < B; ++i) EXPECT_EQ(got[i].tokens, single[i + 1].tokens) << "batch " << B << " row " << i;
  }
  // Sampling does something: greedy differs somewhere, and so does another seed.
  GenerationOptions greedy = opt, other = opt;
  greedy.sampling = {};
  other.sampling.seed = 8;
  const auto g = gen.generate(reqs, greedy), s8 = gen.generate(reqs, other);
  int differ_greedy = 0, differ_seed = 0;
  for (size_t i = 0; i < reqs.size(); ++i) differ_greedy += g[i].tokens != all[i].tokens, differ_seed += s8[i].tokens != all[i].tokens;
  EXPECT_GE(differ_greedy, 1);
  EXPECT_GE(differ_seed, 1);
}

TEST(Sampling, MinNewTokensHoldsEosBackInBothDecoders) {
  Fixture f;
  Generator gen(f.model, f.tok, 400, 401);
  const auto reqs = keyed_requests(f);
  const int64_t eos = most_common_token(gen, reqs);
  GenerationOptions opt;
  opt.max_new_tokens = 12;
  opt.eos_ids = {eos};
  int early = 0;
  for (const auto& r : reqs) {
    const GenerationResult res = gen.generate({r}, opt)[0];
    early += res.stop_reason == "eos" && res.tokens.size() < 4;
  }
  ASSERT_GE(early, 1) << "no row stops early: the test would not test anything";
  opt.min_new_tokens = 4;
  for (const bool sample : {false, true}) {
    if (sample) opt.sampling = {1.0, 0, 1.0, 3};
    const auto got = gen.generate(reqs, opt), ref = gen.generate_reference(reqs, opt);
    for (size_t i = 0; i < reqs.size(); ++i) {
      SCOPED_TRACE(std::to_string(i) + (sample ? " sampled" : " greedy"));
      EXPECT_GE(got[i].tokens.size(), 4u);
      EXPECT_EQ(got[i].tokens, ref[i].tokens);
      for (size_t k = 0; k < std::min<size_t>(4, got[i].tokens.size()); ++k) EXPECT_NE(got[i].tokens[k], eos);
    }
  }
}

}  // namespace
