// The one tensor-name registry of a LLaVA model: every parameter's canonical name
// (the module paths model/ registers; training/strategy.h's predicates read them) and
// shape, derived from the config alone. Parameter accounting (`lnbench params`) sums
// it; the strict loader will check checkpoints against it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace lnb::model {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

// Canonical names: vision_model.* (all CLIP layers, as checkpoints hold them),
// projector.linear.* or projector.linear_{1,2}.*, llm.*, lm_head.weight (absent when tied).
std::vector<TensorSpec> llava_tensors(const LlavaConfig& config);

}  // namespace lnb::model
