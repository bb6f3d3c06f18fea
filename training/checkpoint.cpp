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

namespace lnb::training {
namespace fs = std::filesystem;
namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// A checkpoint's JSON file through the bounded reader; its errors as ModelLoadError.
nlohmann::json read_json_or_load_error(const fs::path& file) {
  try {
    return common::read_json(file.string());
  } catch (const std::exception& e) {
    throw model::ModelLoadError(e.what());
  }
}

// "FILE: field 'F': expected E, got G" for a JSON file's bad field.
model::ModelLoadError field_error(const fs::path& file, const std::string& field, const std::string& expected,
                                  const nlohmann::json& got) {
  return model::ModelLoadError(file.string() + ": field '" + field + "': expected " + expected + ", got " +
                               (got.is_null() ? std::string("none") : common::json_excerpt(got)));
}
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
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

template <typename F>
void for_each_layer(model::LlavaModel& m, F&& f) {
  for (size_t i = 0; i < m->llm->layers->size(); ++i) f(*m->llm->layers->ptr<model::LlamaDecoderLayerImpl>(i));
}

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

void merge_lora(model::LlavaModel& m) {
  for_each_layer(m, [](model::LlamaDecoderLayerImpl& layer) {
    for (const char* t : {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"})
      block_linear(layer, t)->merge_lora();
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

void write_peft_adapter(const fs::path& dir, model::LlavaModel& m, const Strategy& strategy, const LoraSpec* lora,
                        const std::string& base_model_name) {
  const bool vision = m->config.has_vision;
  const auto trained = trained_tensors(m);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  nlohmann::ordered_json cfg;
  if (strategy.lora) {
    TORCH_CHECK(lora != nullptr, "write_peft_adapter: a LoRA strategy needs its LoraSpec");
    std::set<std::string> to_save;
    for (const auto& [name, t] : trained) {
      tensors.emplace_back(peft_key(name, vision), t);
      if (name.find(".lora_") != std::string::npos) continue;
      if (starts_with(name, "projector.")) to_save.insert("multi_modal_projector");
      else if (name == "llm.embed_tokens.weight") to_save.insert("embed_tokens");
      else if (name == "lm_head.weight") to_save.insert("lm_head");
      else throw std::invalid_argument("PEFT LoRA adapter: tensor '" + name + "' has no modules_to_save form");
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
  } else if (strategy.block_norms && !strategy.all_llm && strategy.block_linears.empty()) {
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
    throw std::invalid_argument("strategy '" + strategy.name + "' has no PEFT adapter form (lora, ln and ln-simple do)");
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

// --- PEFT adapter folders in (adapter_config.json + adapter_model.safetensors) ------

namespace {

constexpr const char* kBlockLinears[] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

// A PEFT adapter key as the plain checkpoint key apply_checkpoint maps: "base_model.model."
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

}  // namespace

bool is_peft_adapter(const fs::path& checkpoint) {
  return fs::is_directory(checkpoint) && fs::is_regular_file(checkpoint / "adapter_config.json") &&
         !fs::exists(checkpoint / "meta.json");
}

nlohmann::json apply_peft_adapter(model::LoadedModel& m, const fs::path& dir) {
  const fs::path cfg_file = dir / "adapter_config.json";
  const nlohmann::json cfg = read_json_or_load_error(cfg_file);
  auto bad = [&](const std::string& field, const std::string& expected, const nlohmann::json& got) {
    return field_error(cfg_file, field, expected, got);
  };
  if (!cfg.is_object()) throw bad("", "a PEFT adapter config (a JSON object)", cfg);
  const nlohmann::json type = cfg.value("peft_type", nlohmann::json());
  if (type != "LORA" && type != "LN_TUNING") throw bad("peft_type", "\"LORA\" or \"LN_TUNING\" (the PEFT types lnbench reads)", type);
  const fs::path weights = dir / "adapter_model.safetensors";
  if (!fs::is_regular_file(weights))
    throw model::ModelLoadError(weights.string() + ": expected PEFT's adapter_model.safetensors, found " +
                                (fs::exists(dir / "adapter_model.bin") ? "adapter_model.bin only (a pickle: save it with "
                                                                         "safe_serialization=True)" : std::string("no such file")));
  std::unique_ptr<model::SafetensorsCheckpoint> ck;
  try {
    ck = std::make_unique<model::SafetensorsCheckpoint>(weights);
  } catch (const std::exception& e) {
    throw model::ModelLoadError(e.what());
  }
  nlohmann::json meta = {{"schema", "peft"}, {"peft_type", type}, {"path", dir.string()},
                         {"base_model_name_or_path", cfg.value("base_model_name_or_path", nlohmann::json())},
                         {"identity", "not verifiable: a PEFT adapter records its base by name only; tensor names and shapes are checked"}};
  if (type == "LORA") {
    const nlohmann::json r = cfg.value("r", nlohmann::json()), alpha = cfg.value("lora_alpha", nlohmann::json());
    if (!r.is_number_integer() || r.get<int64_t>() < 1 || r.get<int64_t>() > 65536) throw bad("r", "a rank 1..65536", r);
    if (!alpha.is_number()) throw bad("lora_alpha", "a number", alpha);
    for (const char* flag : {"use_dora", "fan_in_fan_out"})
      if (cfg.value(flag, false) != false) throw bad(flag, "false (lnbench reads plain LoRA on nn.Linear)", cfg[flag]);
    if (cfg.contains("bias") && cfg["bias"] != "none") throw bad("bias", "\"none\"", cfg["bias"]);
    for (const char* pattern : {"rank_pattern", "alpha_pattern"})
      if (cfg.contains(pattern) && !cfg[pattern].is_null() && !cfg[pattern].empty())
        throw bad(pattern, "empty (per-module ranks and alphas are not read yet)", cfg[pattern]);
    const bool rslora = cfg.value("use_rslora", false) == true;
    const int64_t rank = r.get<int64_t>();
    std::set<std::string> targets;
    for (const std::string& key : ck->names()) {
      const size_t at = key.find(".lora_");
      if (at == std::string::npos) continue;
      const std::string module = key.substr(0, at), leaf = module.substr(module.rfind('.') + 1);
      const bool block = std::find(std::begin(kBlockLinears), std::end(kBlockLinears), leaf) != std::end(kBlockLinears) &&
                         module.find(".layers.") != std::string::npos && module.find("vision") == std::string::npos;
      if (!block)
        throw model::ModelLoadError(weights.string() + ": tensor '" + key + "': expected LoRA on a decoder-layer linear (" +
                                    "q_proj k_proj v_proj o_proj gate_proj up_proj down_proj), got module '" + module +
                                    "' (an unknown target module for this model)");
      targets.insert(leaf);  // the rank is checked when the tensor is read, below
    }
    if (targets.empty()) throw model::ModelLoadError(weights.string() + ": expected lora_A/lora_B tensors, found none");
    LoraSpec spec;
    spec.rank = rank;
    // PEFT's scale is alpha / r, or alpha / sqrt(r) with use_rslora; lnbench's adapters
    // scale by alpha / rank, so rsLoRA passes alpha * sqrt(r).
    spec.alpha = rslora ? alpha.get<double>() * std::sqrt(static_cast<double>(rank)) : alpha.get<double>();
    spec.targets.assign(targets.begin(), targets.end());
    spec.dropout = 0;
    inject_lora(m.model, spec);
    meta["lora"] = {{"rank", rank}, {"alpha", alpha}, {"use_rslora", rslora}, {"targets", spec.targets}};
  }
  auto params = m.model->named_parameters();
  torch::NoGradGuard no_grad;
  int64_t n_tensors = 0, n_elements = 0;
  for (const std::string& key : ck->names()) {
    const std::optional<std::string> plain = peft_to_checkpoint_key(key);
    const std::optional<std::string> name = plain ? model::canonical_name(*plain) : std::nullopt;
    at::Tensor* p = name && !name->empty() ? params.find(*name) : nullptr;
    if (p == nullptr)
      throw model::ModelLoadError(weights.string() + ": tensor '" + key + "' names no parameter of this model (expected "
                                  "base_model.model.<a module of transformers' LlavaForConditionalGeneration or LlamaForCausalLM>)");
    const at::Tensor t = ck->tensor(key);  // each tensor read once
    if (const size_t at = key.find(".lora_"); at != std::string::npos) {
      const bool is_a = key.compare(at, 7, ".lora_A") == 0;
      const int64_t got = t.dim() == 2 ? t.size(is_a ? 0 : 1) : -1, rank = meta["lora"]["rank"].get<int64_t>();
      if (got != rank)
        throw model::ModelLoadError(weights.string() + ": tensor '" + key + "': expected rank " + std::to_string(rank) +
                                    " (adapter_config.json r), got a " +
                                    (t.dim() == 2 ? "rank " + std::to_string(got) : std::string("non-matrix")) + " tensor");
    }
    if (t.sizes() != p->sizes())
      throw model::ModelLoadError(weights.string() + ": tensor '" + key + "' has shape " + c10::str(t.sizes()) +
                                  ", expected " + c10::str(p->sizes()) + " (an adapter for another base model?)");
    model::check_finite(t, weights.string(), key);
    p->copy_(t);
    ++n_tensors;
    n_elements += t.numel();
  }
  meta["tensors"] = n_tensors;
  meta["trainable_params"] = n_elements;  // what the adapter holds
  return meta;
}

nlohmann::json apply_delta(model::LoadedModel& m, const fs::path& checkpoint, bool allow_base_mismatch) {
  if (is_peft_adapter(checkpoint)) return apply_peft_adapter(m, checkpoint);
  const nlohmann::json meta = read_checkpoint_meta(checkpoint);
  check_delta_base(meta, checkpoint, m.dir, allow_base_mismatch);
  const fs::path weights = fs::is_directory(checkpoint) ? checkpoint / "model.safetensors" : checkpoint;
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
  model::apply_checkpoint(m.model, weights);
  return meta;
}

DeltaSwap::~DeltaSwap() {
  try {
    restore();
  } catch (...) {  // destructors do not throw; the model is discarded with us
  }
}

nlohmann::json DeltaSwap::apply(const fs::path& checkpoint) {
  restore();  // the identity check runs in apply_delta below; a refusal restores what was saved
  const bool peft = is_peft_adapter(checkpoint);
  const fs::path weights = peft ? checkpoint / "adapter_model.safetensors"
                           : fs::is_directory(checkpoint) ? checkpoint / "model.safetensors" : checkpoint;
  std::unique_ptr<model::SafetensorsCheckpoint> ckpt;
  try {
    ckpt = std::make_unique<model::SafetensorsCheckpoint>(weights);
  } catch (const std::exception& e) {
    throw model::ModelLoadError(e.what());
  }
  auto params = m_.model->named_parameters();
  torch::NoGradGuard no_grad;
  for (const std::string& key : ckpt->names()) {
    const std::optional<std::string> plain = peft ? peft_to_checkpoint_key(key) : std::optional<std::string>(key);
    const std::optional<std::string> name = plain ? model::canonical_name(*plain) : std::nullopt;
    if (!name || name->empty()) continue;
    if (const at::Tensor* p = params.find(*name)) saved_.emplace_back(*p, p->detach().clone());
  }
  try {
    nlohmann::json meta = apply_delta(m_, checkpoint, allow_base_mismatch_);
    if (fold_lora_)
      for_each_layer(m_.model, [this](model::LlamaDecoderLayerImpl& layer) {
        for (const char* t : {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}) {
          model::AdaptableLinearImpl* lin = block_linear(layer, t);
          if (!lin->has_lora()) continue;
          saved_.emplace_back(lin->weight, lin->weight.detach().to(at::TensorOptions().device(at::kCPU), /*non_blocking=*/false, /*copy=*/true));
          lin->merge_lora();
        }
      });
    return meta;
  } catch (...) {
    restore();
    throw;
  }
}

void DeltaSwap::restore() {
  torch::NoGradGuard no_grad;
  for (auto& [param, base] : saved_) param.copy_(base);
  saved_.clear();
  for_each_layer(m_.model, [](model::LlamaDecoderLayerImpl& layer) {
    for (const char* t : {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"})
      block_linear(layer, t)->remove_lora();
  });
}

void merge_checkpoint(const fs::path& base_dir, const fs::path& checkpoint, const fs::path& out_dir,
                      const model::LoadOptions& load, bool allow_base_mismatch) {
  model::LoadOptions o = load;
  o.load_tokenizer = false;
  o.checkpoint.clear();
  model::LoadedModel m = model::load_model(base_dir, o);
  const nlohmann::json meta = apply_delta(m, checkpoint, allow_base_mismatch);
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
