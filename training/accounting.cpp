// See accounting.h.
#include "training/accounting.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "model/layers.h"

#include "model/tensor_table.h"

namespace lnb::training {

int64_t adapter_bottleneck(const model::LlavaConfig& config, const AdapterSpec& adapter) {
  return adapter.reduction >= 1 ? config.text.hidden_size / adapter.reduction : 0;
}

void check_specs(const model::LlavaConfig& config, const Strategy& strategy, const AdapterSpec& adapter,
                 const PrefixSpec& prefix) {
  const int64_t D = config.text.hidden_size;
  if (strategy.adapter) {
    const std::string placement = adapter_placement(strategy, adapter);
    if (placement != "pfeiffer" && placement != "houlsby" && placement != "parallel")
      throw std::invalid_argument("--adapter-placement: expected pfeiffer, houlsby or parallel, got '" + placement + "'");
    if (adapter.reduction < 1 || adapter.reduction > D || D % adapter.reduction != 0)
      throw std::invalid_argument("--adapter-reduction: expected a factor that divides the hidden size " + std::to_string(D) +
                                  ", got " + std::to_string(adapter.reduction));
    if (!model::is_adapter_non_linearity(adapter.non_linearity))
      throw std::invalid_argument("--adapter-non-linearity: expected relu, gelu, silu or tanh, got '" +
                                  adapter.non_linearity + "'");
    if (!std::isfinite(adapter.scaling) || adapter.scaling <= 0)
      throw std::invalid_argument("--adapter-scaling: expected a finite value > 0, got " + std::to_string(adapter.scaling));
  }
  if (strategy.prefix) {
    const int64_t ctx = config.text.max_position_embeddings;
    if (prefix.length < 1 || prefix.length >= ctx)
      throw std::invalid_argument("--prefix-length: expected 1 to " + std::to_string(ctx - 1) +
                                  " virtual tokens (the context is " + std::to_string(ctx) + "), got " +
                                  std::to_string(prefix.length));
    if (prefix.projection < 0 || prefix.projection > (int64_t{1} << 20))
      throw std::invalid_argument("--prefix-projection: expected 0 (none) or an MLP width up to 1048576, got " +
                                  std::to_string(prefix.projection));
  }
}

ParamCounts count_params(const model::LlavaConfig& config, const Strategy& strategy, const LoraSpec& lora,
                         const AdapterSpec& adapter, const PrefixSpec& prefix) {
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
  const int64_t D = config.text.hidden_size, L = config.text.n_layers;
  if (strategy.adapter) {
    const int64_t b = adapter_bottleneck(config, adapter);
    const int64_t per = (D * b + b) + (b * D + D);  // down and up, each with its bias
    c.adapter = L * per * (adapter_placement(strategy, adapter) == "houlsby" ? 2 : 1);
  }
  if (strategy.prefix) {
    const int64_t kv = config.text.n_kv_heads * config.text.head_dim(), out = L * 2 * kv, h = prefix.projection;
    c.prefix = h > 0 ? prefix.length * kv + (kv * h + h) + (h * out + out) : prefix.length * out;
  }
  c.trainable += c.injected();
  return c;
}

}  // namespace lnb::training
