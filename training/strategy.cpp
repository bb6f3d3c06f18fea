// See strategy.h. The predicate works on names only, so parameter accounting on the
// meta device, the trainer and checkpoint writers all agree by construction.
#include "training/strategy.h"

#include <stdexcept>

namespace lnb::training {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// "llm.layers.12.self_attn.q_proj.weight" -> "q_proj"; "" when not a block tensor.
std::string_view block_leaf(std::string_view name) {
  if (!starts_with(name, "llm.layers.")) return {};
  const size_t last_dot = name.rfind('.');
  if (last_dot == std::string_view::npos) return {};
  const std::string_view without_param = name.substr(0, last_dot);
  const size_t leaf_dot = without_param.rfind('.');
  return without_param.substr(leaf_dot + 1);
}

Strategy named(std::string name, std::string summary) {
  Strategy s;
  s.name = std::move(name);
  s.summary = std::move(summary);
  return s;
}

}  // namespace

const std::vector<Strategy>& builtin_strategies() {
  static const std::vector<Strategy> kStrategies = [] {
    std::vector<Strategy> v;
    Strategy full = named("full", "every LLM parameter + connector");
    full.all_llm = full.connector = full.embed_and_head = true;
    v.push_back(full);
    Strategy lora = named("lora", "LoRA on q,k,v,o,gate,up,down + connector, embed_tokens, lm_head");
    lora.lora = lora.connector = lora.embed_and_head = true;
    v.push_back(lora);
    Strategy qv = named("attn-qv", "q_proj and v_proj + connector, embed_tokens, lm_head");
    qv.block_linears = {"q_proj", "v_proj"};
    qv.connector = qv.embed_and_head = true;
    v.push_back(qv);
    Strategy mlp = named("attn-mlp", "gate/up/down + connector, embed_tokens, lm_head");
    mlp.block_linears = {"gate_proj", "up_proj", "down_proj"};
    mlp.connector = mlp.embed_and_head = true;
    v.push_back(mlp);
    Strategy ln = named("ln", "every LLM norm + connector, embed_tokens, lm_head");
    ln.block_norms = ln.final_norm = ln.connector = ln.embed_and_head = true;
    v.push_back(ln);
    Strategy ln_simple = named("ln-simple", "the LLM norms only");
    ln_simple.block_norms = ln_simple.final_norm = true;
    v.push_back(ln_simple);
    Strategy connector = named("connector", "stage 1: the connector only");
    connector.connector = true;
    v.push_back(connector);
    return v;
  }();
  return kStrategies;
}

const Strategy& find_strategy(std::string_view name) {
  std::string names;
  for (const Strategy& s : builtin_strategies()) {
    if (s.name == name) return s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  throw std::invalid_argument("unknown strategy '" + std::string(name) + "' (expected one of: " + names + ")");
}

bool trains(const Strategy& s, std::string_view name) {
  if (starts_with(name, "vision_model.")) return false;  // frozen in every strategy
  if (starts_with(name, "projector.")) return s.connector;
  if (name == "llm.embed_tokens.weight" || name == "lm_head.weight") return s.all_llm || s.embed_and_head;
  if (name == "llm.norm.weight") return s.all_llm || s.final_norm;
  if (!starts_with(name, "llm.")) return false;
  if (s.all_llm) return true;
  const std::string_view leaf = block_leaf(name);
  if (leaf == "input_layernorm" || leaf == "post_attention_layernorm") return s.block_norms;
  for (const std::string& t : s.block_linears)
    if (leaf == t) return true;
  return false;
}

}  // namespace lnb::training
