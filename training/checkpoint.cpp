// See checkpoint.h. PEFT key rules: specs/model.md §4.5 (the adapter name removed,
// "base_model.model." + the module path; LN tuning inserts "ln_tuning_layers" after the
// targeted module; modules_to_save are saved under their plain path).
#include "training/checkpoint.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

#include <ATen/ATen.h>

#include "common/json_io.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "model/fingerprint.h"
#include "model/safetensors.h"
#include "training/accounting.h"
#include "training/checkpoint_internal.h"

namespace lnb::training {
namespace fs = std::filesystem;
namespace detail {

nlohmann::json read_json_or_load_error(const fs::path& file) {
  try {
    return common::read_json(file.string());
  } catch (const std::exception& e) {
    throw model::ModelLoadError(e.what());
  }
}

model::ModelLoadError field_error(const fs::path& file, const std::string& field, const std::string& expected,
                                  const nlohmann::json& got) {
  return model::ModelLoadError(file.string() + ": field '" + field + "': expected " + expected + ", got " +
                               (got.is_null() ? std::string("none") : common::json_excerpt(got)));
}

model::AdaptableLinearImpl* block_linear(model::LlamaDecoderLayerImpl& layer, const std::string& name) {
  if (name == "q_proj") return layer.self_attn->q_proj.get();
  if (name == "k_proj") return layer.self_attn->k_proj.get();
  if (name == "v_proj") return layer.self_attn->v_proj.get();
  if (name == "o_proj") return layer.self_attn->o_proj.get();
  if (name == "gate_proj") return layer.mlp->gate_proj.get();
  if (name == "up_proj") return layer.mlp->up_proj.get();
  if (name == "down_proj") return layer.mlp->down_proj.get();
  throw std::invalid_argument("LoRA target '" + name +
                              "': expected one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
}

int64_t parameter_count(model::LlavaModel& m) {
  int64_t n = 0;
  for (const at::Tensor& p : m->parameters()) n += p.numel();
  return n;
}

}  // namespace detail

using namespace detail;

namespace {

// "model.language_model.layers.0.input_layernorm" for "llm.layers.0.input_layernorm".
std::string hf_path(const std::string& canonical, bool has_vision) {
  if (starts_with(canonical, "llm.")) return (has_vision ? "model.language_model." : "model.") + canonical.substr(4);
  if (starts_with(canonical, "projector.")) return "model.multi_modal_projector." + canonical.substr(10);
  if (canonical == "lm_head" || starts_with(canonical, "lm_head.")) return canonical;
  throw std::invalid_argument("no PEFT key for tensor '" + canonical + "' (the vision tower never trains)");
}

}  // namespace

void inject_lora(model::LlavaModel& m, const LoraSpec& spec) {
  for (const std::string& t : spec.targets) (void)block_linear(*m->llm->layers->ptr<model::LlamaDecoderLayerImpl>(0), t);
  for_each_layer(m, [&](model::LlamaDecoderLayerImpl& layer) {
    for (const std::string& t : spec.targets) block_linear(layer, t)->add_lora(spec.rank, spec.alpha, spec.dropout);
  });
}

void inject_modules(model::LlavaModel& m, const Strategy& strategy, const LoraSpec& lora, const AdapterSpec& adapter,
                    const PrefixSpec& prefix) {
  check_specs(m->config, strategy, adapter, prefix);
  if (strategy.lora) inject_lora(m, lora);
  if (strategy.adapter) {
    const std::string placement = adapter_placement(strategy, adapter);
    const int64_t bottleneck = adapter_bottleneck(m->config, adapter);
    const double scaling = adapter_scaling(strategy, adapter);
    for_each_layer(m, [&](model::LlamaDecoderLayerImpl& layer) {
      layer.add_adapters(bottleneck, adapter.non_linearity, scaling,
                         placement == "parallel" ? model::AdapterPlacement::kParallel : model::AdapterPlacement::kSequential,
                         placement == "houlsby");
    });
  }
  if (strategy.prefix) m->llm->add_prefix(prefix.length, prefix.projection);
}

void remove_injected(model::LlavaModel& m) {
  for_each_layer(m, [](model::LlamaDecoderLayerImpl& layer) {
    for (const char* t : kBlockLinears) block_linear(layer, t)->remove_lora();
    layer.remove_adapters();
  });
  m->llm->remove_prefix();
}

nlohmann::json injection_meta(const Strategy& strategy, const LoraSpec& lora, const AdapterSpec& adapter,
                              const PrefixSpec& prefix) {
  nlohmann::json j = nlohmann::json::object();
  if (strategy.lora)
    j["lora"] = {{"rank", lora.rank}, {"alpha", lora.alpha}, {"dropout", lora.dropout}, {"targets", lora.targets}};
  if (strategy.adapter)
    j["adapter"] = {{"placement", adapter_placement(strategy, adapter)}, {"reduction", adapter.reduction},
                    {"non_linearity", adapter.non_linearity}, {"scaling", adapter_scaling(strategy, adapter)}};
  if (strategy.prefix) j["prefix"] = {{"length", prefix.length}, {"projection", prefix.projection}};
  return j;
}

AdapterSpec adapter_spec_from_meta(const nlohmann::json& j, const fs::path& file) {
  const bool ok = j.is_object() && j.value("placement", nlohmann::json()).is_string() &&
                  j.value("reduction", nlohmann::json()).is_number_integer() &&
                  j.value("non_linearity", nlohmann::json()).is_string() && j.value("scaling", nlohmann::json()).is_number();
  if (!ok)
    throw field_error(file, "adapter", "{placement, reduction, non_linearity, scaling} (strings, an integer, a number)", j);
  AdapterSpec a;
  a.placement = j["placement"].get<std::string>();
  a.reduction = j["reduction"].get<int64_t>();
  a.non_linearity = j["non_linearity"].get<std::string>();
  a.scaling = j["scaling"].get<double>();
  return a;
}

PrefixSpec prefix_spec_from_meta(const nlohmann::json& j, const fs::path& file) {
  const bool ok = j.is_object() && j.value("length", nlohmann::json()).is_number_integer() &&
                  j.value("projection", nlohmann::json()).is_number_integer();
  if (!ok) throw field_error(file, "prefix", "{length, projection} (integers)", j);
  PrefixSpec p;
  p.length = j["length"].get<int64_t>();
  p.projection = j["projection"].get<int64_t>();
  return p;
}

void merge_lora(model::LlavaModel& m) {
  for_each_layer(m, [](model::LlamaDecoderLayerImpl& layer) {
    for (const char* t : kBlockLinears) block_linear(layer, t)->merge_lora();
  });
}

std::vector<std::pair<std::string, at::Tensor>> trained_tensors(model::LlavaModel& m) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : m->named_parameters())
    if (item.value().requires_grad()) out.emplace_back(item.key(), item.value().detach());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::string peft_key(const std::string& canonical, bool has_vision) {
  return "base_model.model." + hf_path(canonical, has_vision);
}

namespace {

// The modules_to_save entry (PEFT matches it as a suffix of the module path) that holds a
// trained base tensor; std::invalid_argument for one no entry names alone.
std::string modules_to_save_name(const std::string& name, bool vision, const char* adapter) {
  if (starts_with(name, "projector.")) return "multi_modal_projector";
  if (name == "llm.embed_tokens.weight") return "embed_tokens";
  if (name == "lm_head.weight") return "lm_head";
  if (name == "llm.norm.weight") return vision ? "language_model.norm" : "model.norm";  // "norm" alone: CLIP's pre_layrnorm too
  if (ends_with(name, ".input_layernorm.weight")) return "input_layernorm";
  if (ends_with(name, ".post_attention_layernorm.weight")) return "post_attention_layernorm";
  throw std::invalid_argument(std::string("PEFT ") + adapter + " adapter: tensor '" + name + "' has no modules_to_save form");
}

}  // namespace

PeftForm peft_form(const Strategy& s) {
  const bool plain = !s.all_llm && !s.biases && s.block_linears.empty();
  if (plain && s.lora && !s.adapter && !s.prefix && !s.any_norm()) return PeftForm::kLora;
  if (plain && s.prefix && !s.lora && !s.adapter) return PeftForm::kPrefixTuning;
  if (plain && s.any_norm() && !s.injects()) return PeftForm::kLnTuning;
  return PeftForm::kNone;
}

void write_peft_adapter(const fs::path& dir, model::LlavaModel& m, const Strategy& strategy, const LoraSpec* lora,
                        const std::string& base_model_name) {
  const bool vision = m->config.has_vision;
  const auto trained = trained_tensors(m);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  nlohmann::ordered_json cfg;
  const PeftForm form = peft_form(strategy);
  if (form == PeftForm::kLora) {
    TORCH_CHECK(lora != nullptr, "write_peft_adapter: a LoRA strategy needs its LoraSpec");
    std::set<std::string> to_save;
    for (const auto& [name, t] : trained) {
      tensors.emplace_back(peft_key(name, vision), t);
      if (name.find(".lora_") != std::string::npos) continue;
      to_save.insert(modules_to_save_name(name, vision, "LoRA"));
    }
    std::string targets;
    for (const std::string& t : lora->targets) targets += (targets.empty() ? "" : "|") + t;
    cfg = {{"peft_type", "LORA"}, {"task_type", "CAUSAL_LM"}, {"base_model_name_or_path", base_model_name},
           {"r", lora->rank}, {"lora_alpha", lora->alpha}, {"lora_dropout", lora->dropout}, {"bias", "none"}};
    // A regex: a plain list would also match CLIP's q/k/v_proj inside the vision tower.
    if (vision) cfg["target_modules"] = ".*language_model.*\\.(" + targets + ")";
    else cfg["target_modules"] = lora->targets;
    cfg["modules_to_save"] = to_save.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(to_save);
    cfg.update({{"fan_in_fan_out", false}, {"use_rslora", false}, {"use_dora", false}, {"init_lora_weights", true},
                {"inference_mode", true}, {"revision", nullptr}});
  } else if (form == PeftForm::kPrefixTuning) {
    // PEFT's prompt-learning keys: "base_model." + the module path (no tuner wrapper), the
    // trained base tensors as modules_to_save, and the KV prefix folded to what PEFT loads
    // in inference mode (prefix_projection's MLP output).
    std::set<std::string> to_save;
    for (const auto& [name, t] : trained) {
      if (starts_with(name, "llm.prefix.")) continue;
      to_save.insert(modules_to_save_name(name, vision, "prefix"));
      tensors.emplace_back("base_model." + hf_path(name, vision), t);
    }
    at::Tensor prompt;
    {
      at::NoGradGuard no_grad;
      prompt = m->llm->prefix->forward().detach().to(at::kCPU).contiguous();
    }
    tensors.emplace_back("prompt_embeddings", prompt);
    const model::LlamaConfig& tc = m->config.text;
    cfg = {{"peft_type", "PREFIX_TUNING"}, {"task_type", "CAUSAL_LM"}, {"base_model_name_or_path", base_model_name},
           {"num_virtual_tokens", m->llm->prefix->length}, {"token_dim", tc.n_kv_heads * tc.head_dim()},
           {"num_transformer_submodules", 1}, {"num_attention_heads", tc.n_kv_heads}, {"num_layers", tc.n_layers},
           {"encoder_hidden_size", tc.n_kv_heads * tc.head_dim()}, {"prefix_projection", false},
           {"modules_to_save", to_save.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(to_save)},
           {"inference_mode", true}, {"revision", nullptr}};
  } else if (form == PeftForm::kLnTuning) {
    // The projector goes in modules_to_save (saved under its plain path), not as an LN
    // target: PEFT < 0.21 and >= 0.21 disagree on where the adapter name sits in a nested
    // target's keys ("ln_tuning_layers.linear_1.weight" vs "ln_tuning_layers.default.
    // linear_1.weight"), while single-tensor targets and modules_to_save load in both.
    std::set<std::string> targets, to_save;
    for (const auto& [name, t] : trained) {
      if (starts_with(name, "projector.")) {
        to_save.insert("multi_modal_projector");
        tensors.emplace_back(peft_key(name, vision), t);
        continue;
      }
      const size_t dot = name.rfind('.');
      const std::string module = name.substr(0, dot), param = name.substr(dot + 1);
      targets.insert(module.substr(module.rfind('.') + 1));
      tensors.emplace_back("base_model.model." + hf_path(module, vision) + ".ln_tuning_layers." + param, t);
    }
    cfg = {{"peft_type", "LN_TUNING"}, {"task_type", "CAUSAL_LM"}, {"base_model_name_or_path", base_model_name},
           {"target_modules", targets}, {"exclude_modules", nullptr},
           {"modules_to_save", to_save.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(to_save)},
           {"inference_mode", true}, {"revision", nullptr}};
  } else {
    throw std::invalid_argument("strategy '" + strategy.name +
                                "' has no PEFT adapter form (lora, the ln family, prefix and prefix+ln do)");
  }
  fs::create_directories(dir);
  model::save_safetensors(dir / "adapter_model.safetensors", tensors);
  common::write_file_atomic(dir / "adapter_config.json", cfg.dump(2) + "\n");
}

void save_checkpoint(const fs::path& folder, model::LlavaModel& m, const nlohmann::json& meta, const Strategy& strategy,
                     const LoraSpec* lora, bool peft, const std::vector<std::pair<std::string, at::Tensor>>& optimizer,
                     const nlohmann::json& trainer_state) {
  const fs::path tmp = folder.string() + ".tmp", old = folder.string() + ".old";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  std::map<std::string, std::string> metadata{{"format", "pt"}};
  if (lora != nullptr && strategy.lora) {
    metadata["lnbench.lora_rank"] = std::to_string(lora->rank);
    metadata["lnbench.lora_alpha"] = std::to_string(lora->alpha);
  }
  model::save_safetensors(tmp / "model.safetensors", trained_tensors(m), metadata);
  common::write_file_atomic(tmp / "meta.json", meta.dump(2) + "\n");
  if (!optimizer.empty()) model::save_safetensors(tmp / "optimizer.safetensors", optimizer);
  if (!trainer_state.is_null()) common::write_file_atomic(tmp / "trainer_state.json", trainer_state.dump(2) + "\n");
  if (peft) write_peft_adapter(tmp / "peft", m, strategy, lora, meta.value("base_model", nlohmann::json::object()).value("path", ""));
  // The previous checkpoint stays whole until the new one is in place.
  fs::remove_all(old);
  if (fs::exists(folder)) fs::rename(folder, old);
  fs::rename(tmp, folder);
  fs::remove_all(old);
}

nlohmann::json read_checkpoint_meta(const fs::path& checkpoint) {
  if (!fs::is_directory(checkpoint)) return nullptr;  // a bare safetensors file carries no identity
  const fs::path file = checkpoint / "meta.json";
  if (!fs::exists(file)) return nullptr;
  const nlohmann::json meta = read_json_or_load_error(file);
  auto bad = [&](const std::string& field, const std::string& expected, const nlohmann::json& got) {
    return field_error(file, field, expected, got);
  };
  if (!meta.is_object()) throw bad("", "a JSON object (lnbench.checkpoint/1)", meta);
  const nlohmann::json schema = meta.value("schema", nlohmann::json());
  if (schema != "lnbench.checkpoint/1") throw bad("schema", "\"lnbench.checkpoint/1\"", schema);
  const nlohmann::json strategy = meta.value("strategy", nlohmann::json());
  if (!strategy.is_string()) throw bad("strategy", "a strategy name", strategy);
  try {
    find_strategy(strategy.get<std::string>());
  } catch (const std::exception&) {
    std::string names;
    for (const Strategy& s : builtin_strategies()) names += (names.empty() ? "" : ", ") + std::string(s.name);
    throw bad("strategy", "one of " + names, strategy);
  }
  const nlohmann::json fp = meta.contains("base_model") && meta["base_model"].is_object()
                                ? meta["base_model"].value("fingerprint", nlohmann::json()) : nlohmann::json();
  if (!fp.is_string() || fp.get<std::string>().size() != 64) throw bad("base_model.fingerprint", "a sha256 hex digest", fp);
  return meta;
}

void check_delta_base(const nlohmann::json& meta, const fs::path& checkpoint, const fs::path& model_dir,
                      bool allow_mismatch) {
  if (!meta.is_object() || model_dir.empty() || allow_mismatch) return;
  const std::string theirs = meta["base_model"]["fingerprint"].get<std::string>();
  const std::string ours = model::model_fingerprint(model_dir);
  if (theirs == ours) return;
  const std::string trained_on = meta["base_model"].value("path", std::string("?"));
  throw model::ModelLoadError((checkpoint / "meta.json").string() + ": field 'base_model.fingerprint': expected " +
                              ours.substr(0, 12) + "… (the base model " + model_dir.string() + "), got " +
                              theirs.substr(0, 12) + "… (trained on " + trained_on +
                              "): this delta was trained for another base model (hint: --allow-base-mismatch applies it anyway)");
}

nlohmann::json apply_delta(model::LoadedModel& m, const fs::path& checkpoint, bool allow_base_mismatch,
                           const model::ApplyOptions& write) {
  const CheckpointKind kind = checkpoint_kind(checkpoint);
  nlohmann::json meta;
  if (kind == CheckpointKind::kPeft || kind == CheckpointKind::kLlavaLora) {
    meta = apply_peft_adapter(m, checkpoint, write);
  } else if (kind == CheckpointKind::kFull) {
    meta = apply_full_checkpoint(m, checkpoint, write);
  } else {
    meta = read_checkpoint_meta(checkpoint);
    check_delta_base(meta, checkpoint, m.dir, allow_base_mismatch);
    const fs::path weights = kind == CheckpointKind::kLnbench ? checkpoint / "model.safetensors" : checkpoint;
    if (meta.is_object() && meta.contains("lora") && meta["lora"].is_object()) {
      const nlohmann::json& l = meta["lora"];
      LoraSpec spec;
      const bool ok = l.contains("rank") && l["rank"].is_number_integer() && l["rank"].get<int64_t>() > 0 &&
                      l["rank"].get<int64_t>() <= 65536 && l.contains("alpha") && l["alpha"].is_number() &&
                      l.contains("targets") && l["targets"].is_array() && !l["targets"].empty() &&
                      std::all_of(l["targets"].begin(), l["targets"].end(), [](const nlohmann::json& t) { return t.is_string(); });
      if (!ok)
        throw model::ModelLoadError((checkpoint / "meta.json").string() +
                                    ": field 'lora': expected {rank: 1..65536, alpha: a number, targets: [names]}, got " +
                                    common::json_excerpt(l));
      spec.rank = l["rank"].get<int64_t>();
      spec.alpha = l["alpha"].get<double>();
      spec.targets = l["targets"].get<std::vector<std::string>>();
      spec.dropout = 0;  // inference
      inject_lora(m.model, spec);
    }
    if (meta.is_object() && (meta.contains("adapter") || meta.contains("prefix"))) {
      const fs::path file = checkpoint / "meta.json";
      const Strategy& s = find_strategy(meta["strategy"].get<std::string>());
      const AdapterSpec a = meta.contains("adapter") ? adapter_spec_from_meta(meta["adapter"], file) : AdapterSpec{};
      const PrefixSpec p = meta.contains("prefix") ? prefix_spec_from_meta(meta["prefix"], file) : PrefixSpec{};
      if (s.adapter != meta.contains("adapter") || s.prefix != meta.contains("prefix"))
        throw field_error(file, s.adapter ? "adapter" : "prefix", "the specs of strategy '" + s.name + "'", meta);
      Strategy only = s;  // LoRA was injected above
      only.lora = false;
      try {
        if (s.adapter) {  // the recorded placement and scaling are the ones used
          only.adapter_placement = a.placement;
          only.adapter_scaling = a.scaling;
        }
        inject_modules(m.model, only, LoraSpec{}, a, p);
      } catch (const std::invalid_argument& e) {
        throw model::ModelLoadError(file.string() + ": " + e.what());
      }
    }
    const model::ApplyCount count = model::apply_checkpoint(m.model, weights, write);
    if (meta.is_null()) meta = nlohmann::json::object();
    meta["trainable_params"] = count.elements;
  }
  meta["kind"] = checkpoint_kind_name(kind);
  meta["total_params"] = parameter_count(m.model);
  return meta;
}

DeltaSwap::~DeltaSwap() {
  try {
    restore();
  } catch (...) {  // destructors do not throw; the model is discarded with us
  }
}

nlohmann::json DeltaSwap::apply(const fs::path& checkpoint) {
  restore();  // the identity check runs in apply_delta; a refusal restores what was saved
  model::ApplyOptions write;
  write.before_write = [this](at::Tensor& p) {
    saved_.emplace_back(p, p.detach().to(at::TensorOptions().device(at::kCPU), /*non_blocking=*/false, /*copy=*/true));
  };
  try {
    nlohmann::json meta = apply_delta(m_, checkpoint, allow_base_mismatch_, write);
    if (fold_lora_)
      for_each_layer(m_.model, [&write](model::LlamaDecoderLayerImpl& layer) {
        for (const char* t : kBlockLinears) {
          model::AdaptableLinearImpl* lin = block_linear(layer, t);
          if (!lin->has_lora()) continue;
          write.before_write(lin->weight);
          lin->merge_lora();
        }
      });
    if (fold_lora_ && m_.model->llm->has_prefix()) m_.model->llm->prefix->fold();
    return meta;
  } catch (...) {
    restore();
    throw;
  }
}

void DeltaSwap::restore() {
  torch::NoGradGuard no_grad;
  // Newest first: a parameter written twice gets its first saved value (the base) last.
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) it->first.copy_(it->second);
  saved_.clear();
  remove_injected(m_.model);
}

void merge_checkpoint(const fs::path& base_dir, const fs::path& checkpoint, const fs::path& out_dir,
                      const model::LoadOptions& load, bool allow_base_mismatch) {
  model::LoadOptions o = load;
  o.load_tokenizer = false;
  o.checkpoint.clear();
  model::LoadedModel m = model::load_model(base_dir, o);
  const nlohmann::json meta = apply_delta(m, checkpoint, allow_base_mismatch);
  if (meta.contains("adapter") || meta.contains("prefix"))
    throw std::invalid_argument(checkpoint.string() + ": strategy '" + meta.value("strategy", std::string("?")) +
                                "' injects " + (meta.contains("adapter") ? "bottleneck adapters" : "a key/value prefix") +
                                ", which cannot be merged into the base's weights (evaluate the delta itself instead)");
  merge_lora(m.model);
  const model::SafetensorsCheckpoint base(base_dir);
  auto params = m.model->named_parameters();
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  int64_t replaced = 0;
  for (const std::string& key : base.names()) {
    const std::optional<std::string> name = model::canonical_name(key);
    const at::Tensor original = base.tensor(key);
    at::Tensor* p = name && !name->empty() ? params.find(*name) : nullptr;
    if (p != nullptr) {
      tensors.emplace_back(key, p->detach().to(at::kCPU, original.scalar_type()));
      ++replaced;
    } else {
      tensors.emplace_back(key, original);
    }
  }
  fs::create_directories(out_dir);
  for (const auto& e : fs::directory_iterator(base_dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || ends_with(name, ".safetensors") || name == "model.safetensors.index.json") continue;
    fs::copy_file(e.path(), out_dir / name, fs::copy_options::overwrite_existing);
  }
  model::save_safetensors(out_dir / "model.safetensors", tensors);
  nlohmann::ordered_json prov = {{"schema", "lnbench.merge/1"},
                                 {"base_model", fs::absolute(base_dir).string()},
                                 {"checkpoint", fs::absolute(checkpoint).string()},
                                 {"strategy", meta.is_object() ? meta.value("strategy", "") : ""},
                                 {"tensors_written", tensors.size()},
                                 {"tensors_from_model", replaced}};
  common::write_file_atomic(out_dir / "lnbench_merge.json", prov.dump(2) + "\n");
}

}  // namespace lnb::training
