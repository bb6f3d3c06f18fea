// Choosing the next token: greedy (argmax) or sampled from the softmax filtered as HF's
// generate filters it (temperature, then top-k, then top-p: TemperatureLogitsWarper,
// TopKLogitsWarper, TopPLogitsWarper), with min_new_tokens holding EOS back.
//
// A sampled token is the inverse-CDF draw at a uniform that belongs to its request alone:
// counter-based, SplitMix64 of (seed, the request's key, the step), never a generator
// state shared by a batch. So a request's answer does not depend on which requests share
// its batch, on the batch size, on the rank that decodes it, or on a restart after a kill;
// the authors' code, by contrast, samples captions from an unseeded global generator
// (specs/protocol.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace lnb::model {

struct SamplingOptions {
  double temperature = 0;  // 0: greedy; > 0: sample at this temperature
  int64_t top_k = 0;       // keep the k most likely tokens (ties kept); 0: all
  double top_p = 1.0;      // keep the smallest most-likely set with this mass; 1: all
  uint64_t seed = 0;
  bool greedy() const { return temperature <= 0; }
};

// Throws std::invalid_argument naming the option for a value out of range.
void check_sampling(const SamplingOptions& o);

// The uniform in [0, 1) (53 bits) of draw `step` of the request keyed `key`.
double sample_uniform(uint64_t seed, uint64_t key, int64_t step);
// A request key from its id (the first 8 bytes of sha256(id)).
uint64_t sample_key(const std::string& request_id);

// (R, V) float32 logits after temperature, top-k and top-p, removed tokens at -inf.
at::Tensor filter_logits(const at::Tensor& logits, const SamplingOptions& o);

// The next token of each row (R) of `logits` (R, V): argmax when greedy, else the
// inverse-CDF draw of softmax(filter_logits) at `uniforms` (R, float64, on any device).
// `blocked` (ids, e.g. EOS before min_new_tokens) get no probability and are never chosen.
at::Tensor choose_tokens(const at::Tensor& logits, const SamplingOptions& o, const at::Tensor& uniforms,
                         const std::vector<int64_t>& blocked = {});

}  // namespace lnb::model
