// Tuning strategies as data (specs/model.md "The strategies"): which named tensors
// train and which modules are injected. Names are lnbench's canonical module
// paths (model/ maps every checkpoint layout onto them):
//   vision_model.*                 CLIP tower (frozen in every strategy)
//   projector.*                    the connector (linear or linear-GELU-linear)
//   llm.embed_tokens.weight, llm.layers.N.{self_attn,mlp}.*, llm.layers.N.*_layernorm.weight,
//   llm.norm.weight, lm_head.weight
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lnb::training {

struct LoraSpec {
  int rank = 64;              // the paper's numbers fit r=64, alpha=16, dropout 0.05
  double alpha = 16.0;
  double dropout = 0.05;
  std::vector<std::string> targets{"q_proj", "k_proj", "v_proj", "o_proj",
                                   "gate_proj", "up_proj", "down_proj"};
};

// Bottleneck adapters (adapter, adapter+ln; mam's are parallel at scaling 4).
struct AdapterSpec {
  std::string placement = "pfeiffer";  // pfeiffer (after the MLP) | houlsby (after attention and the MLP) | parallel
  int64_t reduction = 16;              // bottleneck width = hidden_size / reduction, which must divide
  std::string non_linearity = "relu";  // relu | gelu | silu | tanh
  double scaling = 1.0;
};

// Prefix-tuning / P-tuning v2 (prefix, prefix+ln, mam).
struct PrefixSpec {
  int64_t length = 30;     // virtual tokens P per layer (He et al.'s l = 30)
  int64_t projection = 0;  // width of the reparameterisation MLP while training; 0 = none
};

struct Strategy {
  std::string name;
  std::string summary;
  // Leaf module names inside llm.layers.N whose weights train (e.g. "q_proj").
  std::vector<std::string> block_linears;
  bool input_norms = false;         // llm.layers.N.input_layernorm (before attention)
  bool mlp_norms = false;           // llm.layers.N.post_attention_layernorm (before the MLP)
  bool final_norm = false;          // llm.norm
  bool all_llm = false;             // every LLM parameter
  bool connector = false;           // projector.*
  bool embed_and_head = false;      // llm.embed_tokens, lm_head
  bool biases = false;              // every bias tensor outside the vision tower (BitFit)
  bool lora = false;                // inject LoRA adapters (lora_spec) into block linears
  bool adapter = false;             // inject bottleneck adapters (AdapterSpec)
  std::string adapter_placement;    // "" = the AdapterSpec's; mam: "parallel"
  double adapter_scaling = 0;       // 0 = the AdapterSpec's; mam: 4 (He et al.)
  bool prefix = false;              // inject a trained KV prefix (PrefixSpec)
  std::string note;                 // what `lnbench params` adds about it
  bool any_norm() const { return input_norms || mlp_norms || final_norm; }
  bool injects() const { return lora || adapter || prefix; }
};

// The strategies of specs/model.md, then Qi et al.'s (2022) wider set, in report order:
// full, lora, attn-qv, attn-mlp, ln, ln-simple, connector, ln-attn, ln-ffn, bitfit,
// adapter, prefix, mam, adapter+ln, prefix+ln.
const std::vector<Strategy>& builtin_strategies();

// A built-in name, or "A+B[+C]": the union of what each part trains and injects (so
// "prefix+ln" is prefix's set plus ln's). Throws std::invalid_argument naming the valid
// choices, a part named twice, or two parts whose adapters disagree on placement.
const Strategy& find_strategy(std::string_view name);

// Whether the canonical tensor `name` trains under `s`: base tensors by the flags,
// injected modules (lora_A/B, adapters, the prefix encoder) when `s` injects them.
bool trains(const Strategy& s, std::string_view name);

// The adapter placement and scaling `s` uses with `spec` (mam forces its own).
std::string adapter_placement(const Strategy& s, const AdapterSpec& spec);
double adapter_scaling(const Strategy& s, const AdapterSpec& spec);

}  // namespace lnb::training
