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

// The trainable tensors (requires_grad) of a model by canonical name, in name order.
std::vector<std::pair<std::string, at::Tensor>> trained_tensors(model::LlavaModel& m);

// Writes folder/model.safetensors + folder/meta.json (atomically: a temporary folder
// renamed over `folder`); with `peft` also folder/peft/.
void save_checkpoint(const std::filesystem::path& folder, model::LlavaModel& m, const nlohmann::json& meta,
                     const Strategy& strategy, const LoraSpec* lora, bool peft,
                     const std::vector<std::pair<std::string, at::Tensor>>& extra_files_tensors = {},
                     const nlohmann::json& trainer_state = nullptr);

// PEFT's key for a canonical tensor name: "base_model.model." + the module path in
// transformers' LlavaForConditionalGeneration (>= 4.52 layout) or LlamaForCausalLM.
std::string peft_key(const std::string& canonical, bool has_vision);
void write_peft_adapter(const std::filesystem::path& dir, model::LlavaModel& m, const Strategy& strategy,
                        const LoraSpec* lora, const std::string& base_model_name);

// Applies a checkpoint folder (or a bare safetensors file) to a loaded model, injecting
// the LoRA adapters its metadata describes first. Returns meta.json (null if absent).
nlohmann::json apply_delta(model::LoadedModel& m, const std::filesystem::path& checkpoint,
                           bool allow_base_mismatch = false);

// A PEFT adapter folder (adapter_config.json + adapter_model.safetensors, no meta.json),
// as PEFT's save_pretrained writes it: LORA (r, lora_alpha, use_rslora, the target
// modules its tensors name, modules_to_save) or LN_TUNING. apply_delta applies one by
// itself: LoRA adapters injected at the adapter's rank, every tensor checked against the
// model by name and shape. The returned meta says what the adapter holds
// (trainable_params = its elements). ModelLoadError names the file and the key for an
// unknown target module, a rank that does not match the tensors, a tensor of another shape.
bool is_peft_adapter(const std::filesystem::path& checkpoint);
nlohmann::json apply_peft_adapter(model::LoadedModel& m, const std::filesystem::path& dir);

// meta.json of a checkpoint folder, validated (schema lnbench.checkpoint/1, a known
// strategy, a base fingerprint); null for a bare safetensors file or a folder without
// one. ModelLoadError names the file and the field.
nlohmann::json read_checkpoint_meta(const std::filesystem::path& checkpoint);

// ModelLoadError unless the delta's recorded base (meta.json base_model.fingerprint,
// model/fingerprint.h) is the model folder's; says both and how to override.
void check_delta_base(const nlohmann::json& meta, const std::filesystem::path& checkpoint,
                      const std::filesystem::path& model_dir, bool allow_mismatch);

// Several checkpoints evaluated one after another over one resident base model:
// apply() keeps a copy of each base tensor the delta overwrites (LoRA adds adapters and
// overwrites nothing) and restore() puts the base back bit for bit, adapters removed.
class DeltaSwap {
 public:
  explicit DeltaSwap(model::LoadedModel& m) : m_(m) {}
  ~DeltaSwap();
  DeltaSwap(const DeltaSwap&) = delete;
  DeltaSwap& operator=(const DeltaSwap&) = delete;
  nlohmann::json apply(const std::filesystem::path& checkpoint);  // restores a previous delta first
  void restore();
  // Fold LoRA adapters into their weights on apply (evaluation: no adapter GEMMs per
  // linear); restore() copies the saved base weights back, bit for bit.
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
