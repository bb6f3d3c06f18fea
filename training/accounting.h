// Exact parameter accounting per strategy from the tensor table alone (no weights,
// no allocation): what `lnbench params` prints and train.json must equal.
#pragma once

#include <cstdint>

#include "model/config.h"
#include "training/strategy.h"

namespace lnb::training {

struct ParamCounts {
  int64_t base_total = 0;   // parameters of the model itself
  int64_t lora = 0;         // injected LoRA adapter parameters (lora strategy only)
  int64_t trainable = 0;    // trained base tensors + adapters
  int64_t total() const { return base_total + lora; }  // PEFT counts adapters in "all params"
  double trainable_pct() const { return total() ? 100.0 * static_cast<double>(trainable) / static_cast<double>(total()) : 0; }
};

ParamCounts count_params(const model::LlavaConfig& config, const Strategy& strategy, const LoraSpec& lora = {});

}  // namespace lnb::training
