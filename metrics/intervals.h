// 95 % intervals for headline scores (docs/results_store.md "intervals"):
//   - Wilson score interval for a proportion (an accuracy over independent questions);
//   - a seeded, stratified percentile bootstrap for graded metrics, where the statistic
//     is recomputed from resampled units (a sample, or a whole MME image).
// The generator is specified here, not taken from <random>: std::uniform_int_distribution
// differs between standard libraries, and an interval must be the same number on every
// machine that scores the same answers. SplitMix64 (Steele et al. 2014) feeds Lemire's
// unbiased bounded draw; percentiles interpolate linearly between order statistics
// (numpy's default "linear" method), so a Python reference reproduces them exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lnb::metrics {

struct Interval {
  double lo = 0, hi = 0;
};

// z for a two-sided `confidence` (0 < confidence < 1), by bisection on erfc.
double normal_quantile_two_sided(double confidence);

// Wilson score interval for k successes out of n; nullopt when n == 0.
std::optional<Interval> wilson_interval(int64_t k, int64_t n, double confidence = 0.95);

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform in [0, n), n > 0, unbiased (Lemire 2019, multiply-and-reject).
  uint64_t below(uint64_t n);

 private:
  uint64_t state_;
};

// The seed of one statistic's bootstrap: the run's seed mixed with a label (task and
// statistic), so two tasks never share a resample stream and adding one changes no other.
uint64_t bootstrap_seed(uint64_t base, const std::string& label);

// The q-quantile (0..1) of `sorted` with linear interpolation (numpy "linear").
double quantile_linear(const std::vector<double>& sorted, double q);

struct BootstrapOptions {
  int resamples = 2000;
  uint64_t seed = 20240101;
  double confidence = 0.95;
};

// One resample: weights[s][i] = how many times unit i of stratum s was drawn (each
// stratum keeps its size). The statistic returns one value per statistic it computes
// (several share a resample: MME perception and cognition, POPE's splits and their
// mean); nullopt where undefined on that resample.
using Weights = std::vector<std::vector<uint32_t>>;
using Statistic = std::function<std::vector<std::optional<double>>(const Weights&)>;

struct BootstrapResult {
  std::vector<std::optional<Interval>> intervals;  // per statistic; nullopt: undefined on > 5 % of resamples
  std::vector<int> undefined;                      // per statistic: resamples where it was undefined
};

// Stratified percentile bootstrap. Draws stratum by stratum, unit by unit, from one
// SplitMix64(opt.seed) stream; strata of size 0 draw nothing.
BootstrapResult stratified_bootstrap(const std::vector<size_t>& strata_sizes, size_t n_statistics,
                                     const Statistic& statistic, const BootstrapOptions& opt);

// The mean of `values` (one stratum), resampled: VQA accuracy, per-image CIDEr.
std::optional<Interval> bootstrap_mean(const std::vector<double>& values, const BootstrapOptions& opt);

}  // namespace lnb::metrics
