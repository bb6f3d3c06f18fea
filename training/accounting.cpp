// See accounting.h.
#include "training/accounting.h"

#include <algorithm>

#include "model/tensor_table.h"

namespace lnb::training {

ParamCounts count_params(const model::LlavaConfig& config, const Strategy& strategy, const LoraSpec& lora) {
  ParamCounts c;
  for (const model::TensorSpec& t : model::llava_tensors(config)) {
    c.base_total += t.numel();
    if (trains(strategy, t.name)) c.trainable += t.numel();
    if (!strategy.lora || t.name.rfind("llm.layers.", 0) != 0 || t.shape.size() != 2) continue;
    // "llm.layers.N.self_attn.q_proj.weight" -> "q_proj"; adapters A (r, in) + B (out, r).
    const std::string no_param = t.name.substr(0, t.name.rfind('.'));
    const std::string leaf = no_param.substr(no_param.rfind('.') + 1);
    if (std::find(lora.targets.begin(), lora.targets.end(), leaf) != lora.targets.end())
      c.lora += static_cast<int64_t>(lora.rank) * (t.shape[0] + t.shape[1]);
  }
  c.trainable += c.lora;
  return c;
}

}  // namespace lnb::training
