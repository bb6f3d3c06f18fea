// See intervals.h.
#include "metrics/intervals.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace lnb::metrics {

double normal_quantile_two_sided(double confidence) {
  if (!(confidence > 0 && confidence < 1)) throw std::invalid_argument("confidence must be in (0, 1)");
  // P(|Z| > z) = erfc(z / sqrt 2) falls monotonically in z.
  double lo = 0, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (std::erfc(mid / std::sqrt(2.0)) > 1 - confidence ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

std::optional<Interval> wilson_interval(int64_t k, int64_t n, double confidence) {
  if (n <= 0) return std::nullopt;
  if (k < 0 || k > n) throw std::invalid_argument("wilson_interval: k must be in [0, n]");
  const double z = normal_quantile_two_sided(confidence), nn = static_cast<double>(n);
  const double p = static_cast<double>(k) / nn, z2 = z * z;
  const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / (1 + z2 / nn);
  return Interval{std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

namespace {

// The 128-bit product a * b as (high, low) words, in portable C++ (no __int128).
void mul_64x64(uint64_t a, uint64_t b, uint64_t& hi, uint64_t& lo) {
  const uint64_t a_lo = a & 0xffffffffULL, a_hi = a >> 32, b_lo = b & 0xffffffffULL, b_hi = b >> 32;
  const uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
  const uint64_t mid = (ll >> 32) + (lh & 0xffffffffULL) + (hl & 0xffffffffULL);
  lo = (mid << 32) | (ll & 0xffffffffULL);
  hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

}  // namespace

uint64_t SplitMix64::below(uint64_t n) {
  if (n == 0) throw std::invalid_argument("SplitMix64::below(0)");
  uint64_t hi = 0, low = 0;
  mul_64x64(next(), n, hi, low);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) mul_64x64(next(), n, hi, low);
  }
  return hi;
}

uint64_t bootstrap_seed(uint64_t base, const std::string& label) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
  for (unsigned char c : label) h = (h ^ c) * 0x100000001b3ULL;
  SplitMix64 mix(base ^ h);
  return mix.next();
}

double quantile_linear(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) throw std::invalid_argument("quantile_linear: no values");
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t i = static_cast<size_t>(std::floor(pos));
  if (i + 1 >= sorted.size()) return sorted.back();
  const double frac = pos - static_cast<double>(i);
  return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

BootstrapResult stratified_bootstrap(const std::vector<size_t>& strata_sizes, size_t n_statistics,
                                     const Statistic& statistic, const BootstrapOptions& opt) {
  if (opt.resamples < 1) throw std::invalid_argument("bootstrap: resamples must be >= 1");
  SplitMix64 rng(opt.seed);
  Weights w(strata_sizes.size());
  for (size_t s = 0; s < strata_sizes.size(); ++s) w[s].assign(strata_sizes[s], 0);
  std::vector<std::vector<double>> draws(n_statistics);
  BootstrapResult out;
  out.undefined.assign(n_statistics, 0);
  for (int r = 0; r < opt.resamples; ++r) {
    for (size_t s = 0; s < w.size(); ++s) {
      std::fill(w[s].begin(), w[s].end(), 0);
      const uint64_t n = w[s].size();
      for (uint64_t i = 0; i < n; ++i) ++w[s][rng.below(n)];
    }
    const std::vector<std::optional<double>> v = statistic(w);
    if (v.size() != n_statistics) throw std::logic_error("bootstrap: statistic returned the wrong count");
    for (size_t k = 0; k < n_statistics; ++k) {
      if (v[k]) draws[k].push_back(*v[k]);
      else ++out.undefined[k];
    }
  }
  // The tails as numpy.percentile gets them from [2.5, 97.5]: (1 - 0.95) / 2 would be
  // 0.025000000000000022, and the lower bound would differ from numpy's in its last bits.
  const double tail_pct = (100 - 100 * opt.confidence) / 2;
  for (size_t k = 0; k < n_statistics; ++k) {
    std::vector<double>& d = draws[k];
    if (d.empty() || out.undefined[k] > opt.resamples / 20) {
      out.intervals.emplace_back(std::nullopt);
      continue;
    }
    std::sort(d.begin(), d.end());
    out.intervals.emplace_back(Interval{quantile_linear(d, tail_pct / 100), quantile_linear(d, (100 - tail_pct) / 100)});
  }
  return out;
}

std::optional<Interval> bootstrap_mean(const std::vector<double>& values, const BootstrapOptions& opt) {
  if (values.empty()) return std::nullopt;
  const double n = static_cast<double>(values.size());
  auto mean = [&values, n](const Weights& w) {
    double s = 0;
    for (size_t i = 0; i < values.size(); ++i) s += w[0][i] * values[i];
    return std::vector<std::optional<double>>{s / n};
  };
  return stratified_bootstrap({values.size()}, 1, mean, opt).intervals[0];
}

}  // namespace lnb::metrics
