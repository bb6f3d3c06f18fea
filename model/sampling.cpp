// See sampling.h.
#include "model/sampling.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <ATen/ATen.h>

#include "common/sha256.h"

namespace lnb::model {

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

void check_sampling(const SamplingOptions& o) {
  if (!(o.temperature >= 0) || !std::isfinite(o.temperature))
    throw std::invalid_argument("temperature: expected a finite value >= 0 (0 = greedy), got " + std::to_string(o.temperature));
  if (o.top_k < 0) throw std::invalid_argument("top_k: expected >= 0 (0 = off), got " + std::to_string(o.top_k));
  if (!(o.top_p > 0 && o.top_p <= 1)) throw std::invalid_argument("top_p: expected a value in (0, 1], got " + std::to_string(o.top_p));
}

double sample_uniform(uint64_t seed, uint64_t key, int64_t step) {
  const uint64_t h = splitmix64(seed ^ splitmix64(key ^ splitmix64(static_cast<uint64_t>(step))));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

uint64_t sample_key(const std::string& request_id) {
  const std::string hex = common::sha256_hex(request_id);
  return std::stoull(hex.substr(0, 16), nullptr, 16);
}

at::Tensor filter_logits(const at::Tensor& logits, const SamplingOptions& o) {
  check_sampling(o);
  const double inf = std::numeric_limits<double>::infinity();
  at::Tensor l = logits.to(at::kFloat);
  if (o.temperature > 0 && o.temperature != 1.0) l = l / o.temperature;
  const int64_t V = l.size(-1);
  if (o.top_k > 0 && o.top_k < V) {
    const at::Tensor kth = std::get<0>(l.topk(o.top_k, -1)).narrow(-1, o.top_k - 1, 1);  // (R, 1)
    l = l.masked_fill(l < kth, -inf);
  }
  if (o.top_p < 1.0) {
    const auto [sorted, index] = l.sort(-1, /*descending=*/false);
    at::Tensor remove = sorted.softmax(-1).cumsum(-1) <= 1 - o.top_p;
    remove.narrow(-1, V - 1, 1).fill_(false);  // min_tokens_to_keep = 1
    l = l.masked_fill(remove.scatter(-1, index, remove), -inf);
  }
  return l;
}

at::Tensor choose_tokens(const at::Tensor& logits, const SamplingOptions& o, const at::Tensor& uniforms,
                         const std::vector<int64_t>& blocked) {
  at::Tensor l = logits;
  if (!blocked.empty()) {
    l = logits.clone();
    const at::Tensor ids = at::tensor(blocked, at::kLong).to(logits.device());
    l.index_fill_(-1, ids, -std::numeric_limits<double>::infinity());
  }
  if (o.greedy()) return l.argmax(-1);
  // The CDF in float64 (its last entry is the row's total), searched at u * total.
  const at::Tensor cdf = filter_logits(l, o).softmax(-1).to(at::kDouble).cumsum(-1);            // (R, V)
  const at::Tensor target = uniforms.to(cdf.device(), at::kDouble).view({-1, 1}) * cdf.narrow(-1, cdf.size(-1) - 1, 1);
  return at::searchsorted(cdf, target, /*out_int32=*/false, /*right=*/true).view({-1}).clamp_max(cdf.size(-1) - 1);
}

}  // namespace lnb::model
