// Tuning strategies as data (specs/model.md "The strategies"): which named tensors
// train and which modules are injected. Names are lnbench's canonical module
// paths (model/ maps every checkpoint layout onto them):
//   vision_model.*                 CLIP tower (frozen in every strategy)
//   projector.*                    the connector (linear or linear-GELU-linear)
//   llm.embed_tokens.weight, llm.layers.N.{self_attn,mlp}.*, llm.layers.N.*_layernorm.weight,
//   llm.norm.weight, lm_head.weight
#pragma once

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

struct Strategy {
  std::string name;
  std::string summary;
  // Leaf module names inside llm.layers.N whose weights train (e.g. "q_proj").
  std::vector<std::string> block_linears;
  bool block_norms = false;         // input_layernorm, post_attention_layernorm
  bool final_norm = false;          // llm.norm
  bool all_llm = false;             // every LLM parameter
  bool connector = false;           // projector.*
  bool embed_and_head = false;      // llm.embed_tokens, lm_head
  bool lora = false;                // inject LoRA adapters (lora_spec) into block linears
};

// The seven strategies of specs/model.md, in report order.
const std::vector<Strategy>& builtin_strategies();

// Throws std::invalid_argument naming the valid choices.
const Strategy& find_strategy(std::string_view name);

// Whether the canonical base tensor `name` trains under `s` (LoRA adapters are not
// base tensors; see lora_targets()).
bool trains(const Strategy& s, std::string_view name);

}  // namespace lnb::training
