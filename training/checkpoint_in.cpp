// Checkpoints trained elsewhere, applied over a loaded base (checkpoint.h): PEFT adapter
// folders (LORA with rank_pattern / alpha_pattern / rsLoRA / modules_to_save, LN_TUNING),
// LLaVA's LoRA release folders (a PEFT LoRA plus non_lora_trainables.bin and LLaVA's
// config.json), and full fine-tuned HF checkpoints. specs/model.md §4.5 has PEFT's key
// rules; LLaVA's are its builder.py (load_pretrained_model, the model_base + lora branch).
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include <ATen/ATen.h>

#include "common/file_io.h"
#include "common/json_io.h"
#include "model/safetensors.h"
#include "model/torch_pickle.h"
#include "training/checkpoint.h"
#include "training/checkpoint_internal.h"

namespace lnb::training {

namespace fs = std::filesystem;
using namespace detail;
using Tensors = std::vector<std::pair<std::string, at::Tensor>>;

namespace {

bool has_safetensors_weights(const fs::path& dir) {
  return fs::is_regular_file(dir / "model.safetensors") || fs::is_regular_file(dir / "model.safetensors.index.json");
}

// A PEFT adapter key as the plain checkpoint key canonical_name maps: "base_model.model."
// dropped, LN_TUNING's ln_tuning_layers(.default) segment removed. nullopt for another form.
std::optional<std::string> peft_to_checkpoint_key(const std::string& key) {
  const std::string prefix = "base_model.model.";
  if (!starts_with(key, prefix)) return std::nullopt;
  std::string k = key.substr(prefix.size());
  for (const char* seg : {".ln_tuning_layers.default.", ".ln_tuning_layers."}) {
    const size_t at = k.find(seg);
    if (at != std::string::npos) k = k.substr(0, at) + "." + k.substr(at + std::strlen(seg));
  }
  return k;
}

// Every tensor of a safetensors file or a torch.save'd state dict, in file order.
Tensors read_tensors(const fs::path& file) {
  if (ends_with(file.string(), ".bin")) return model::read_torch_state_dict(file);
  try {
    const model::SafetensorsCheckpoint ck(file);
    Tensors out;
    for (const std::string& name : ck.names()) out.emplace_back(name, ck.tensor(name));
    return out;
  } catch (const model::ModelLoadError&) {
    throw;
  } catch (const std::exception& e) {
    throw model::ModelLoadError(e.what());
  }
}

// A rank_pattern or alpha_pattern, its regexes compiled once, in the config's order.
struct Patterns {
  std::vector<std::pair<std::regex, nlohmann::ordered_json>> items;

  Patterns() = default;
  Patterns(const nlohmann::ordered_json& patterns, const fs::path& file, const std::string& field) {
    for (const auto& [pattern, value] : patterns.items()) {
      try {
        items.emplace_back(std::regex("(.*\\.)?(" + pattern + ")", std::regex::ECMAScript), value);
      } catch (const std::regex_error& e) {
        throw field_error(file, field + "." + pattern, "a regular expression", std::string(e.what()));
      }
    }
  }
  // PEFT's get_pattern_key: the first pattern for which Python's
  // re.match(rf"(.*\.)?({pattern})$", module) matches; null when none does.
  const nlohmann::ordered_json* match(const std::string& module) const {
    for (const auto& [re, value] : items)
      if (std::regex_match(module, re)) return &value;
    return nullptr;
  }
};

// "llm.layers.7.self_attn.q_proj" -> 7 (the canonical path of a block linear).
int64_t layer_index(const std::string& canonical_module) {
  const std::string p = "llm.layers.";
  return std::stoll(canonical_module.substr(p.size(), canonical_module.find('.', p.size()) - p.size()));
}

// LLaVA's non_lora_trainables.bin keys as builder.py renames them: "base_model." cut, then
// "model." cut from every key when some key starts "model.model.".
Tensors llava_non_lora(Tensors t) {
  for (auto& [k, v] : t)
    if (starts_with(k, "base_model.")) k = k.substr(11);
  const bool nested = std::any_of(t.begin(), t.end(), [](const auto& e) { return starts_with(e.first, "model.model."); });
  if (nested)
    for (auto& [k, v] : t)
      if (starts_with(k, "model.")) k = k.substr(6);
  return t;
}

// A LLaVA release's config.json against the base it is applied to: the projector and the
// language model's width must be the base's.
void check_llava_config(const fs::path& file, const model::LlavaConfig& base) {
  const nlohmann::json c = read_json_or_load_error(file);
  if (!c.is_object()) throw field_error(file, "", "a LLaVA config (a JSON object)", c);
  if (c.contains("mm_projector_type")) {
    const std::string ours = base.projector == model::ProjectorKind::kLinear ? "linear" : "mlp2x_gelu";
    if (c["mm_projector_type"] != ours)
      throw field_error(file, "mm_projector_type", "\"" + ours + "\" (the base model's projector)", c["mm_projector_type"]);
  }
  if (c.contains("hidden_size") && c["hidden_size"] != base.text.hidden_size)
    throw field_error(file, "hidden_size", std::to_string(base.text.hidden_size) + " (the base model's)", c["hidden_size"]);
}

struct LoraModule {
  std::string peft_module;       // "model.language_model.layers.0.self_attn.q_proj", as PEFT's patterns see it
  std::string canonical;         // "llm.layers.0.self_attn.q_proj"
  const at::Tensor* a = nullptr;
  const at::Tensor* b = nullptr;
  std::string a_key, b_key;
};

}  // namespace

CheckpointKind checkpoint_kind(const fs::path& checkpoint) {
  if (!fs::is_directory(checkpoint)) return CheckpointKind::kTensorFile;
  if (fs::exists(checkpoint / "meta.json")) return CheckpointKind::kLnbench;
  if (fs::is_regular_file(checkpoint / "adapter_config.json"))
    return fs::exists(checkpoint / "non_lora_trainables.bin") ? CheckpointKind::kLlavaLora : CheckpointKind::kPeft;
  if (fs::is_regular_file(checkpoint / "config.json") && has_safetensors_weights(checkpoint)) return CheckpointKind::kFull;
  return CheckpointKind::kLnbench;  // read_checkpoint_meta / apply_checkpoint say what is missing
}

const char* checkpoint_kind_name(CheckpointKind k) {
  switch (k) {
    case CheckpointKind::kLnbench: return "lnbench";
    case CheckpointKind::kTensorFile: return "tensors";
    case CheckpointKind::kPeft: return "peft";
    case CheckpointKind::kLlavaLora: return "llava-lora";
    case CheckpointKind::kFull: return "full";
  }
  return "?";
}

bool is_peft_adapter(const fs::path& checkpoint) {
  const CheckpointKind k = checkpoint_kind(checkpoint);
  return k == CheckpointKind::kPeft || k == CheckpointKind::kLlavaLora;
}

std::vector<fs::path> checkpoint_files(const fs::path& checkpoint) {
  switch (checkpoint_kind(checkpoint)) {
    case CheckpointKind::kTensorFile: return {checkpoint};
    case CheckpointKind::kLnbench: return {checkpoint / "model.safetensors"};
    case CheckpointKind::kPeft:
    case CheckpointKind::kLlavaLora: {
      std::vector<fs::path> out{checkpoint / "adapter_config.json"};
      for (const char* f : {"adapter_model.safetensors", "adapter_model.bin", "non_lora_trainables.bin", "config.json"})
        if (fs::is_regular_file(checkpoint / f)) out.push_back(checkpoint / f);
      return out;
    }
    case CheckpointKind::kFull: {
      std::vector<fs::path> out{checkpoint / "config.json"};
      for (const auto& e : fs::directory_iterator(checkpoint))
        if (e.is_regular_file() && (ends_with(e.path().string(), ".safetensors") ||
                                    e.path().filename() == "model.safetensors.index.json"))
          out.push_back(e.path());
      std::sort(out.begin() + 1, out.end());
      return out;
    }
  }
  return {};
}

nlohmann::json apply_peft_adapter(model::LoadedModel& m, const fs::path& dir, const model::ApplyOptions& write) {
  const fs::path cfg_file = dir / "adapter_config.json";
  const nlohmann::json cfg = read_json_or_load_error(cfg_file);
  auto bad = [&](const std::string& field, const std::string& expected, const nlohmann::json& got) {
    return field_error(cfg_file, field, expected, got);
  };
  if (!cfg.is_object()) throw bad("", "a PEFT adapter config (a JSON object)", cfg);
  const nlohmann::json type = cfg.value("peft_type", nlohmann::json());
  if (type != "LORA" && type != "LN_TUNING" && type != "PREFIX_TUNING")
    throw bad("peft_type", "\"LORA\", \"LN_TUNING\" or \"PREFIX_TUNING\" (the PEFT types lnbench reads)", type);
  const bool prompt_learning = type == "PREFIX_TUNING";
  const bool llava = fs::exists(dir / "non_lora_trainables.bin");
  fs::path weights = dir / "adapter_model.safetensors";
  if (!fs::is_regular_file(weights)) weights = dir / "adapter_model.bin";  // PEFT < 0.6 and LLaVA's releases
  if (!fs::is_regular_file(weights))
    throw model::ModelLoadError((dir / "adapter_model.safetensors").string() +
                                ": expected PEFT's adapter weights (adapter_model.safetensors or adapter_model.bin), found neither");
  const Tensors tensors = read_tensors(weights);
  Tensors extra;  // LLaVA: the projector (and whatever else trained without LoRA)
  if (llava) {
    if (fs::is_regular_file(dir / "config.json")) check_llava_config(dir / "config.json", m.config);
    extra = llava_non_lora(model::read_torch_state_dict(dir / "non_lora_trainables.bin"));
  }
  nlohmann::json meta = {{"schema", llava ? "llava-lora" : "peft"}, {"peft_type", type}, {"path", dir.string()},
                         {"base_model_name_or_path", cfg.value("base_model_name_or_path", nlohmann::json())},
                         {"identity", "not verifiable: a PEFT adapter records its base by name only; tensor names and shapes are checked"}};
  model::ApplyOptions lora_write;  // new adapter tensors: nothing of the base to keep
  std::set<std::string> lora_keys;
  if (type == "LORA") {
    const nlohmann::json r = cfg.value("r", nlohmann::json()), alpha = cfg.value("lora_alpha", nlohmann::json());
    if (!r.is_number_integer() || r.get<int64_t>() < 1 || r.get<int64_t>() > 65536) throw bad("r", "a rank 1..65536", r);
    if (!alpha.is_number()) throw bad("lora_alpha", "a number", alpha);
    for (const char* flag : {"use_dora", "fan_in_fan_out"})
      if (cfg.value(flag, false) != false) throw bad(flag, "false (lnbench reads plain LoRA on nn.Linear)", cfg[flag]);
    if (cfg.contains("bias") && cfg["bias"] != "none") throw bad("bias", "\"none\"", cfg["bias"]);
    // The patterns in the file's order: PEFT takes the first that matches.
    const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(common::read_file(cfg_file));
    Patterns patterns[2];
    const char* pattern_fields[2] = {"rank_pattern", "alpha_pattern"};
    for (int i = 0; i < 2; ++i) {
      const char* f = pattern_fields[i];
      if (!ordered.contains(f) || ordered[f].is_null()) continue;
      if (!ordered[f].is_object()) throw bad(f, "an object of module pattern -> " + std::string(i ? "alpha" : "rank"), cfg[f]);
      for (const auto& [k, v] : ordered[f].items()) {
        const bool ok = i == 0 ? v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= 65536 : v.is_number();
        if (!ok) throw bad(std::string(f) + "." + k, i == 0 ? "a rank 1..65536" : "a number", nlohmann::json::parse(v.dump()));
      }
      patterns[i] = Patterns(ordered[f], cfg_file, f);
    }
    const bool rslora = cfg.value("use_rslora", false) == true;
    std::map<std::string, LoraModule> modules;  // by PEFT module path
    for (const auto& [key, t] : tensors) {
      const size_t at = key.find(".lora_");
      if (at == std::string::npos) continue;
      const std::string leaf_param = key.substr(at + 1);
      const bool is_a = starts_with(leaf_param, "lora_A."), is_b = starts_with(leaf_param, "lora_B.");
      const std::optional<std::string> plain = peft_to_checkpoint_key(key.substr(0, at) + ".weight");
      const std::optional<std::string> canon = plain ? model::canonical_name(*plain) : std::nullopt;
      const std::string module = key.substr(0, at), leaf = module.substr(module.rfind('.') + 1);
      const bool block = canon && starts_with(*canon, "llm.layers.") &&
                         std::find(std::begin(kBlockLinears), std::end(kBlockLinears), leaf) != std::end(kBlockLinears);
      if (!block || !(is_a || is_b))
        throw model::ModelLoadError(weights.string() + ": tensor '" + key + "': expected LoRA on a decoder-layer linear (" +
                                    "q_proj k_proj v_proj o_proj gate_proj up_proj down_proj), got module '" + module +
                                    "' (an unknown target module for this model)");
      LoraModule& mod = modules[module];
      mod.peft_module = module.substr(std::strlen("base_model.model."));
      mod.canonical = canon->substr(0, canon->size() - std::strlen(".weight"));
      (is_a ? mod.a : mod.b) = &t;
      (is_a ? mod.a_key : mod.b_key) = key;
      lora_keys.insert(key);
    }
    if (modules.empty()) throw model::ModelLoadError(weights.string() + ": expected lora_A/lora_B tensors, found none");
    std::set<std::string> targets;
    nlohmann::json ranks = nlohmann::json::object();
    for (const auto& [module, mod] : modules) {
      if (!mod.a || !mod.b)
        throw model::ModelLoadError(weights.string() + ": module '" + module + "': expected both lora_A and lora_B, found only " +
                                    (mod.a ? mod.a_key : mod.b_key));
      const nlohmann::ordered_json* rp = patterns[0].match(mod.peft_module);
      const nlohmann::ordered_json* ap = patterns[1].match(mod.peft_module);
      const int64_t rank = rp ? rp->get<int64_t>() : r.get<int64_t>();
      const double a = ap ? ap->get<double>() : alpha.get<double>();
      const std::string source = rp ? "rank_pattern" : "r";
      for (const auto& [key, t, dim] : {std::tuple{mod.a_key, mod.a, 0}, std::tuple{mod.b_key, mod.b, 1}})
        if (t->dim() != 2 || t->size(dim) != rank)
          throw model::ModelLoadError(weights.string() + ": tensor '" + key + "': expected rank " + std::to_string(rank) +
                                      " (adapter_config.json " + source + "), got a " +
                                      (t->dim() == 2 ? "rank " + std::to_string(t->size(dim)) : std::string("non-matrix")) +
                                      " tensor");
      // PEFT's scale is alpha / r, or alpha / sqrt(r) with use_rslora; lnbench's adapters
      // scale by alpha / rank, so rsLoRA passes alpha * sqrt(r).
      const double scaled_alpha = rslora ? a * std::sqrt(static_cast<double>(rank)) : a;
      model::LlamaDecoderLayerImpl& layer = *m.model->llm->layers->ptr<model::LlamaDecoderLayerImpl>(layer_index(mod.canonical));
      block_linear(layer, mod.canonical.substr(mod.canonical.rfind('.') + 1))->add_lora(rank, scaled_alpha, 0);
      targets.insert(mod.canonical.substr(mod.canonical.rfind('.') + 1));
      if (rp || ap) ranks[mod.canonical] = {{"rank", rank}, {"alpha", a}};
    }
    meta["lora"] = {{"rank", r}, {"alpha", alpha}, {"use_rslora", rslora}, {"targets", targets}, {"modules", modules.size()}};
    if (!ranks.empty()) meta["lora"]["patterned"] = ranks;
  }
  if (prompt_learning) {
    // PEFT's PrefixEncoder in inference form: prompt_embeddings (P, L * 2 * Hkv * Dh), every
    // layer's keys and values in PEFT's split (model/layers.h PrefixEncoder).
    const model::LlamaConfig& tc = m.config.text;
    auto need_int = [&](const char* field, int64_t want) {
      const nlohmann::json v = cfg.value(field, nlohmann::json());
      if (!v.is_number_integer() || v.get<int64_t>() != want) throw bad(field, std::to_string(want) + " (this model's)", v);
    };
    need_int("num_layers", tc.n_layers);
    need_int("token_dim", tc.n_kv_heads * tc.head_dim());
    need_int("num_attention_heads", tc.n_kv_heads);
    if (cfg.contains("num_transformer_submodules")) need_int("num_transformer_submodules", 1);
    const nlohmann::json p = cfg.value("num_virtual_tokens", nlohmann::json());
    if (!p.is_number_integer() || p.get<int64_t>() < 1 || p.get<int64_t>() >= tc.max_position_embeddings)
      throw bad("num_virtual_tokens", "1 to " + std::to_string(tc.max_position_embeddings - 1), p);
    const int64_t P = p.get<int64_t>(), width = tc.n_layers * 2 * tc.n_kv_heads * tc.head_dim();
    const auto it = std::find_if(tensors.begin(), tensors.end(), [](const auto& kt) { return kt.first == "prompt_embeddings"; });
    if (it == tensors.end())
      throw model::ModelLoadError(weights.string() + ": expected tensor 'prompt_embeddings' (PEFT's saved prefix), found none");
    if (it->second.sizes() != at::IntArrayRef({P, width}))
      throw model::ModelLoadError(weights.string() + ": tensor 'prompt_embeddings': expected shape [" + std::to_string(P) +
                                  ", " + std::to_string(width) + "] (num_virtual_tokens x num_layers * 2 * token_dim)");
    m.model->llm->add_prefix(P, 0);
    lora_keys.insert("prompt_embeddings");
    meta["prefix"] = {{"length", P}, {"projection", 0}};
  }
  auto params = m.model->named_parameters();
  model::ApplyCount count;
  auto put = [&](const fs::path& file, const std::string& key, const std::optional<std::string>& plain, const at::Tensor& t) {
    const std::optional<std::string> name = plain ? model::canonical_name(*plain) : std::nullopt;
    at::Tensor* p = name && !name->empty() ? params.find(*name) : nullptr;
    if (p == nullptr)
      throw model::ModelLoadError(file.string() + ": tensor '" + key + "' names no parameter of this model (expected " +
                                  (file == weights ? "base_model.model.<a module of the base model>" : "a module of LLaVA") + ")");
    model::write_parameter(p, file.string(), key, t, lora_keys.count(key) ? lora_write : write, count);
  };
  for (const auto& [key, t] : tensors) {
    if (!prompt_learning) {
      put(weights, key, peft_to_checkpoint_key(key), t);
    } else if (key == "prompt_embeddings") {
      put(weights, key, std::string("llm.prefix.embedding.weight"), t);
    } else {  // prompt learning wraps no tuner: "base_model." + the module path
      put(weights, key, starts_with(key, "base_model.") ? std::optional<std::string>(key.substr(11)) : std::nullopt, t);
    }
  }
  for (const auto& [key, t] : extra) put(dir / "non_lora_trainables.bin", key, key, t);
  meta["tensors"] = count.tensors;
  meta["trainable_params"] = count.elements;  // what the adapter holds
  return meta;
}

nlohmann::json apply_full_checkpoint(model::LoadedModel& m, const fs::path& dir, const model::ApplyOptions& write) {
  std::unique_ptr<model::SafetensorsCheckpoint> ck;
  try {
    ck = std::make_unique<model::SafetensorsCheckpoint>(dir);
  } catch (const std::exception& e) {
    throw model::ModelLoadError(e.what());
  }
  model::ApplyOptions o = write;
  o.skip_unchanged = true;  // what equals the base did not train
  auto params = m.model->named_parameters();
  std::set<std::string> seen;
  model::ApplyCount count;
  for (const std::string& key : ck->names()) {
    const std::optional<std::string> name = model::canonical_name(key);
    if (name && name->empty()) continue;
    const fs::path file = ck->file_of(key);
    model::write_parameter(name ? params.find(*name) : nullptr, file.string(), key, ck->tensor(key), o, count);
    seen.insert(*name);
  }
  // A full checkpoint holds the whole language model and the projector; one that lacks a
  // tensor is a partial save, not a fine-tune.
  for (const auto& item : params)
    if (!starts_with(item.key(), "vision_model.") && !seen.count(item.key()))
      throw model::ModelLoadError((dir / "config.json").string() + ": a full checkpoint without tensor '" + item.key() +
                                  "' (expected every language-model and projector tensor; a partial save?)");
  return {{"schema", "full"}, {"path", dir.string()},
          {"identity", "not verifiable: evaluated against the configured base; tensors equal to the base's count as untrained"},
          {"tensors", count.tensors}, {"tensors_unchanged", count.unchanged_tensors},
          {"trainable_params", count.elements}, {"unchanged_params", count.unchanged_elements}};
}

}  // namespace lnb::training
