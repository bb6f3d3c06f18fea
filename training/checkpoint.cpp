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
  for_each_layer(m_.model, [](model::LlamaDecoderLayerImpl& layer) {
    for (const char* t : kBlockLinears) block_linear(layer, t)->remove_lora();
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
