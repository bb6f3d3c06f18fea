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
  int64_t adapter = 0;      // injected bottleneck adapters
  int64_t prefix = 0;       // the prefix encoder (with its reparameterisation MLP when trained with one)
  int64_t trainable = 0;    // trained base tensors + injected modules
  int64_t injected() const { return lora + adapter + prefix; }
  int64_t total() const { return base_total + injected(); }  // PEFT counts adapters in "all params"
  double trainable_pct() const { return total() ? 100.0 * static_cast<double>(trainable) / static_cast<double>(total()) : 0; }
};

ParamCounts count_params(const model::LlavaConfig& config, const Strategy& strategy, const LoraSpec& lora = {},
                         const AdapterSpec& adapter = {}, const PrefixSpec& prefix = {});

// std::invalid_argument naming the option (as `train` spells it) when the specs do not
// fit the model: a reduction factor that does not divide the hidden size, a prefix as
// long as the context, an unknown placement or non-linearity. Only the specs `strategy`
// uses are checked.
void check_specs(const model::LlavaConfig& config, const Strategy& strategy, const AdapterSpec& adapter,
                 const PrefixSpec& prefix);
int64_t adapter_bottleneck(const model::LlavaConfig& config, const AdapterSpec& adapter);  // hidden / reduction

}  // namespace lnb::training
