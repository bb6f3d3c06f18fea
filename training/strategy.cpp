// See strategy.h. The predicate works on names only, so parameter accounting on the
// meta device, the trainer and checkpoint writers all agree by construction.
#include "training/strategy.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
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

// The union of several strategies ("prefix+ln"); std::invalid_argument as find_strategy says.
Strategy combine(const std::vector<const Strategy*>& parts, const std::string& name) {
  Strategy c;
  c.name = name;
  for (const Strategy* p : parts) {
    c.summary += (c.summary.empty() ? "the union of " : " and ") + p->name;
    for (const std::string& l : p->block_linears)
      if (std::find(c.block_linears.begin(), c.block_linears.end(), l) == c.block_linears.end()) c.block_linears.push_back(l);
    c.input_norms |= p->input_norms;
    c.mlp_norms |= p->mlp_norms;
    c.final_norm |= p->final_norm;
    c.all_llm |= p->all_llm;
    c.connector |= p->connector;
    c.embed_and_head |= p->embed_and_head;
    c.biases |= p->biases;
    c.lora |= p->lora;
    c.prefix |= p->prefix;
    if (p->adapter) {
      if (c.adapter && (c.adapter_placement != p->adapter_placement || c.adapter_scaling != p->adapter_scaling))
        throw std::invalid_argument("strategy '" + name + "': its parts inject adapters of different placements (" +
                                    "each layer takes one kind; drop one of them)");
      c.adapter = true;
      c.adapter_placement = p->adapter_placement;
      c.adapter_scaling = p->adapter_scaling;
    }
    if (!p->note.empty() && c.note.find(p->note) == std::string::npos) c.note += (c.note.empty() ? "" : " ") + p->note;
  }
  return c;
}

std::vector<Strategy> make_builtins() {
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
  ln.input_norms = ln.mlp_norms = ln.final_norm = ln.connector = ln.embed_and_head = true;
  ln.note = "RMSNorm has a gain and no bias, so Qi et al.'s gain-versus-bias ablation has no LLaMA counterpart.";
  v.push_back(ln);
  Strategy ln_simple = named("ln-simple", "the LLM norms only");
  ln_simple.input_norms = ln_simple.mlp_norms = ln_simple.final_norm = true;
  ln_simple.note = ln.note;
  v.push_back(ln_simple);
  Strategy connector = named("connector", "stage 1: the connector only");
  connector.connector = true;
  v.push_back(connector);
  // Qi et al.'s module ablation: the norm in front of each sublayer alone (llm.norm in neither).
  Strategy ln_attn = named("ln-attn", "the norms before attention (input_layernorm) + connector, embed_tokens, lm_head");
  ln_attn.input_norms = ln_attn.connector = ln_attn.embed_and_head = true;
  v.push_back(ln_attn);
  Strategy ln_ffn = named("ln-ffn", "the norms before the MLP (post_attention_layernorm) + connector, embed_tokens, lm_head");
  ln_ffn.mlp_norms = ln_ffn.connector = ln_ffn.embed_and_head = true;
  v.push_back(ln_ffn);
  Strategy bitfit = named("bitfit", "every bias term (BitFit)");
  bitfit.biases = true;
  bitfit.note = "LLaMA's linears and RMSNorms have no biases, so on LLaVA only the connector's biases train.";
  v.push_back(bitfit);
  Strategy adapter = named("adapter", "bottleneck adapters (Pfeiffer after the MLP; Houlsby as an option) + connector, "
                                      "embed_tokens, lm_head");
  adapter.adapter = adapter.connector = adapter.embed_and_head = true;
  v.push_back(adapter);
  Strategy prefix = named("prefix", "P-tuning v2 key/value prefixes in every attention layer + connector, embed_tokens, lm_head");
  prefix.prefix = prefix.connector = prefix.embed_and_head = true;
  v.push_back(prefix);
  Strategy mam = named("mam", "MAM adapter (He et al.): prefix in attention + a parallel adapter at the MLP (scaling 4) + "
                              "connector, embed_tokens, lm_head");
  mam.prefix = mam.adapter = mam.connector = mam.embed_and_head = true;
  mam.adapter_placement = "parallel";
  mam.adapter_scaling = 4.0;
  v.push_back(mam);
  const Strategy ln_part = ln, adapter_part = adapter, prefix_part = prefix;  // v reallocates as it grows
  v.push_back(combine({&adapter_part, &ln_part}, "adapter+ln"));
  v.push_back(combine({&prefix_part, &ln_part}, "prefix+ln"));
  return v;
}

}  // namespace

const std::vector<Strategy>& builtin_strategies() {
  static const std::vector<Strategy> kStrategies = make_builtins();
  return kStrategies;
}

const Strategy& find_strategy(std::string_view name) {
  auto builtin = [](std::string_view n) -> const Strategy* {
    for (const Strategy& s : builtin_strategies())
      if (s.name == n) return &s;
    return nullptr;
  };
  if (const Strategy* s = builtin(name)) return *s;
  std::string names;
  for (const Strategy& s : builtin_strategies()) names += (names.empty() ? "" : ", ") + s.name;
  if (name.find('+') == std::string_view::npos)
    throw std::invalid_argument("unknown strategy '" + std::string(name) + "' (expected one of: " + names +
                                ", or a combination such as prefix+ln)");
  // A combination: split on '+' (built-in combined names like "adapter+ln" are parts too
  // only as a whole, so "adapter+ln+bitfit" reads as adapter, ln, bitfit).
  std::vector<const Strategy*> parts;
  size_t from = 0;
  while (from <= name.size()) {
    const size_t plus = std::min(name.find('+', from), name.size());
    const std::string_view part = name.substr(from, plus - from);
    const Strategy* s = builtin(part);
    if (s == nullptr || part.find('+') != std::string_view::npos)
      throw std::invalid_argument("strategy '" + std::string(name) + "': unknown part '" + std::string(part) +
                                  "' (expected one of: " + names + ")");
    for (const Strategy* p : parts)
      if (p == s) throw std::invalid_argument("strategy '" + std::string(name) + "': names '" + std::string(part) + "' twice");
    parts.push_back(s);
    from = plus + 1;
  }
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Strategy>, std::less<>> combined;
  std::lock_guard<std::mutex> lock(mu);
  auto it = combined.find(name);
  if (it == combined.end())
    it = combined.emplace(std::string(name), std::make_unique<Strategy>(combine(parts, std::string(name)))).first;
  return *it->second;
}

bool trains(const Strategy& s, std::string_view name) {
  if (starts_with(name, "vision_model.")) return false;  // frozen in every strategy
  // Injected modules train when the strategy injects them.
  if (name.find(".lora_") != std::string_view::npos) return s.lora;
  if (name.find(".attn_adapter.") != std::string_view::npos || name.find(".mlp_adapter.") != std::string_view::npos)
    return s.adapter;
  if (starts_with(name, "llm.prefix.")) return s.prefix;
  const bool bias = name.size() >= 5 && name.substr(name.size() - 5) == ".bias";
  if (starts_with(name, "projector.")) return s.connector || (s.biases && bias);
  if (s.biases && bias && starts_with(name, "llm.")) return true;
  if (name == "llm.embed_tokens.weight" || name == "lm_head.weight") return s.all_llm || s.embed_and_head;
  if (name == "llm.norm.weight") return s.all_llm || s.final_norm;
  if (!starts_with(name, "llm.")) return false;
  if (s.all_llm) return true;
  const std::string_view leaf = block_leaf(name);
  if (leaf == "input_layernorm") return s.input_norms;
  if (leaf == "post_attention_layernorm") return s.mlp_norms;
  for (const std::string& t : s.block_linears)
    if (leaf == t) return true;
  return false;
}

std::string adapter_placement(const Strategy& s, const AdapterSpec& spec) {
  return s.adapter_placement.empty() ? spec.placement : s.adapter_placement;
}

double adapter_scaling(const Strategy& s, const AdapterSpec& spec) {
  return s.adapter_scaling > 0 ? s.adapter_scaling : spec.scaling;
}

}  // namespace lnb::training
