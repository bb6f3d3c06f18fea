// Delta-only checkpoints and their PEFT twins. A checkpoint folder holds
//   model.safetensors      the trained tensors only, canonical names (model/llava.h);
//                          metadata lnbench.lora_rank / lnbench.lora_alpha when adapters
//   meta.json              lnbench.checkpoint/1: base-model fingerprint, strategy, LoRA
//                          spec, train options, step
//   optimizer.safetensors  AdamW state by tensor name + trainer_state.json (resume only)
//   peft/                  adapter_config.json + adapter_model.safetensors (lora, ln and
//                          ln-simple), keys as PEFT saves them for transformers' llava
// Base weights are never copied; `merge_checkpoint` writes a full HF checkpoint.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "model/loader.h"
#include "training/strategy.h"

namespace lnb::training {

// Injects LoRA adapters into the LLaMA block linears named by `spec.targets`; the
// vision tower is never touched. Initialization draws from the default generator.
void inject_lora(model::LlavaModel& m, const LoraSpec& spec);
void merge_lora(model::LlavaModel& m);  // folds every adapter into its weight

// Every module `strategy` injects, initialised from the default generator in this order:
// LoRA (inject_lora), bottleneck adapters in each decoder layer (its placement, the
// bottleneck hidden / reduction), the prefix encoder. check_specs() first.
void inject_modules(model::LlavaModel& m, const Strategy& strategy, const LoraSpec& lora, const AdapterSpec& adapter,
                    const PrefixSpec& prefix);
// Drops every injected module (LoRA, adapters, prefix) without touching the base weights.
void remove_injected(model::LlavaModel& m);
// The specs as meta.json records them ({"lora": ..., "adapter": ..., "prefix": ...}, only
// the ones `strategy` uses), and back: ModelLoadError names the file and the field.
nlohmann::json injection_meta(const Strategy& strategy, const LoraSpec& lora, const AdapterSpec& adapter,
                              const PrefixSpec& prefix);
AdapterSpec adapter_spec_from_meta(const nlohmann::json& j, const std::filesystem::path& file);
PrefixSpec prefix_spec_from_meta(const nlohmann::json& j, const std::filesystem::path& file);

// The trainable tensors (requires_grad) of a model by canonical name, in name order.
std::vector<std::pair<std::string, at::Tensor>> trained_tensors(model::LlavaModel& m);

// Writes folder/model.safetensors + folder/meta.json (atomically: a temporary folder
// renamed over `folder`); with `peft` also folder/peft/.
// The PEFT twin (folder/peft): LORA for lora, LN_TUNING for the ln family,
// PREFIX_TUNING for prefix and prefix+ln (the KV prefix as PEFT's folded
// `prompt_embeddings`, the trained base tensors as modules_to_save).
void save_checkpoint(const std::filesystem::path& folder, model::LlavaModel& m, const nlohmann::json& meta,
                     const Strategy& strategy, const LoraSpec* lora, bool peft,
                     const std::vector<std::pair<std::string, at::Tensor>>& extra_files_tensors = {},
                     const nlohmann::json& trainer_state = nullptr);

// PEFT's key for a canonical tensor name: "base_model.model." + the module path in
// transformers' LlavaForConditionalGeneration (>= 4.52 layout) or LlamaForCausalLM.
std::string peft_key(const std::string& canonical, bool has_vision);
// Which PEFT adapter type holds what `s` trains: LORA (lora alone), PREFIX_TUNING (prefix,
// prefix+ln), LN_TUNING (the ln family); kNone for the rest (no PEFT twin is written).
enum class PeftForm { kNone, kLora, kPrefixTuning, kLnTuning };
PeftForm peft_form(const Strategy& s);
void write_peft_adapter(const std::filesystem::path& dir, model::LlavaModel& m, const Strategy& strategy,
                        const LoraSpec* lora, const std::string& base_model_name);

// What a --checkpoint path (or a run config's checkpoints.NAME.path) holds:
//   kLnbench     a folder with meta.json (lnbench's own, trained by `train` or `run`)
//   kTensorFile  a bare safetensors file of canonical (or any layout's) tensors
//   kPeft        adapter_config.json + adapter_model.safetensors|.bin, as PEFT saves it
//   kLlavaLora   a PEFT LoRA plus non_lora_trainables.bin (and LLaVA's config.json), as
//                LLaVA's train.py saves a LoRA run
//   kFull        config.json + model.safetensors(.index.json): a full fine-tuned HF
//                checkpoint, evaluated against the loaded base
enum class CheckpointKind { kLnbench, kTensorFile, kPeft, kLlavaLora, kFull };
CheckpointKind checkpoint_kind(const std::filesystem::path& checkpoint);
const char* checkpoint_kind_name(CheckpointKind k);  // "lnbench", "tensors", "peft", "llava-lora", "full"
bool is_peft_adapter(const std::filesystem::path& checkpoint);  // kPeft or kLlavaLora
// The files whose bytes define what applying the checkpoint does (the answers' identity).
std::vector<std::filesystem::path> checkpoint_files(const std::filesystem::path& checkpoint);

// Applies a checkpoint of any kind to a loaded model, injecting the LoRA adapters it
// describes first. `write` sees each base parameter before it is overwritten (DeltaSwap).
// Returns meta.json for lnbench's own, else a meta saying what was applied; every meta
// holds "kind", "trainable_params" (the elements the checkpoint changes) and
// "total_params" (the model's elements after applying it, adapters included).
nlohmann::json apply_delta(model::LoadedModel& m, const std::filesystem::path& checkpoint,
                           bool allow_base_mismatch = false, const model::ApplyOptions& write = {});

// A PEFT adapter folder (no meta.json), as PEFT's save_pretrained writes it: LORA (r,
// lora_alpha, rank_pattern and alpha_pattern with PEFT's first-match rule, use_rslora,
// modules_to_save; each adapted module injected at its own rank), LN_TUNING or
// PREFIX_TUNING (prompt_embeddings as the KV prefix, modules_to_save; its num_layers,
// token_dim and num_attention_heads must be the model's); with
// non_lora_trainables.bin, a LLaVA LoRA release (its tensors renamed as LLaVA's
// builder.py does, its config.json's projector checked against the base). Every tensor is
// checked against the model by name and shape. ModelLoadError names the file and the key
// for an unknown target module, a rank that does not match the tensors, a tensor of
// another shape, a lora_A without its lora_B.
nlohmann::json apply_peft_adapter(model::LoadedModel& m, const std::filesystem::path& dir,
                                  const model::ApplyOptions& write = {});

// A full fine-tuned checkpoint over its base: tensors equal to the base's are skipped
// (they did not train), every language-model and projector tensor must be present.
nlohmann::json apply_full_checkpoint(model::LoadedModel& m, const std::filesystem::path& dir,
                                     const model::ApplyOptions& write = {});

// meta.json of a checkpoint folder, validated (schema lnbench.checkpoint/1, a known
// strategy, a base fingerprint); null for a bare safetensors file or a folder without
// one. ModelLoadError names the file and the field.
nlohmann::json read_checkpoint_meta(const std::filesystem::path& checkpoint);

// ModelLoadError unless the delta's recorded base (meta.json base_model.fingerprint,
// model/fingerprint.h) is the model folder's; says both and how to override.
void check_delta_base(const nlohmann::json& meta, const std::filesystem::path& checkpoint,
                      const std::filesystem::path& model_dir, bool allow_mismatch);

// Several checkpoints evaluated one after another over one resident base model:
// apply() keeps a host copy of each base tensor the checkpoint overwrites (LoRA adds
// adapters and overwrites nothing; a full checkpoint only what it changed) and
// restore() puts the base back bit for bit, adapters removed.
class DeltaSwap {
 public:
  explicit DeltaSwap(model::LoadedModel& m) : m_(m) {}
  ~DeltaSwap();
  DeltaSwap(const DeltaSwap&) = delete;
  DeltaSwap& operator=(const DeltaSwap&) = delete;
  nlohmann::json apply(const std::filesystem::path& checkpoint);  // restores a previous delta first
  void restore();
  // Fold LoRA adapters into their weights on apply (evaluation: no adapter GEMMs per
  // linear), and a prefix's reparameterisation MLP into its output; restore() copies the
  // saved base weights back, bit for bit.
  void set_fold_lora(bool on) { fold_lora_ = on; }
  void set_allow_base_mismatch(bool on) { allow_base_mismatch_ = on; }

 private:
  model::LoadedModel& m_;
  bool fold_lora_ = false;
  bool allow_base_mismatch_ = false;
  std::vector<std::pair<at::Tensor, at::Tensor>> saved_;  // (parameter, its base value)
};

// base + delta -> a full HF checkpoint in the base's own key layout (LoRA merged),
// with the base's other files (config, tokenizer, preprocessor) copied.
void merge_checkpoint(const std::filesystem::path& base_dir, const std::filesystem::path& checkpoint,
                      const std::filesystem::path& out_dir, const model::LoadOptions& load = {},
                      bool allow_base_mismatch = false);

}  // namespace lnb::training
