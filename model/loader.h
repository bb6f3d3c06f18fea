// The one strict loader: a model folder (HF llava-hf in either key layout, original
// LLaVA with its vision tower in a separate CLIP folder, or plain LLaMA) becomes a
// LlavaModel whose every parameter came from a checkpoint tensor of the right shape.
// Missing tensors, misshaped tensors and unknown leftover tensors are ModelLoadError
// naming the file, the tensor, the expected and the found shape.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "model/config.h"
#include "model/image_preprocess.h"
#include "model/llava.h"
#include "model/tokenizer.h"

namespace lnb::model {

class ModelLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Checkpoint key -> canonical name (llava.h), "" for tensors deliberately ignored (CLIP's
// text tower and projections, position_ids buffers), nullopt for an unknown key. The
// renames live in this one table.
std::optional<std::string> canonical_name(const std::string& checkpoint_key);

struct LoadOptions {
  std::filesystem::path vision_tower;  // CLIP folder for original LLaVA (else config's mm_vision_tower)
  std::filesystem::path checkpoint;    // optional trained-tensor delta (safetensors file or folder)
  c10::ScalarType dtype = c10::kFloat;
  c10::Device device = c10::kCPU;
  bool load_tokenizer = true;
};

struct LoadedModel {
  LlavaConfig config;
  LlavaModel model{nullptr};
  std::optional<Tokenizer> tokenizer;
  ImageProcessorConfig image;
  int64_t image_token_id = kImageSlot;  // id at expanded image positions (HF) or kImageSlot (original)
  int64_t pad_id = 0;                   // id used for left padding (never attended)
  std::string hub_layout;               // which key layout was found, for --verbose and run.json
  std::filesystem::path dir;            // the folder it was loaded from (its fingerprint is the identity)
};

// "fp32" | "bf16" | "fp16" as the CLI spells them; std::invalid_argument otherwise.
c10::ScalarType parse_dtype(const std::string& name);

LoadedModel load_model(const std::filesystem::path& model_dir, const LoadOptions& options = {});

// How a checkpoint's tensors are written into a model. `before_write` sees each parameter
// just before it is overwritten (DeltaSwap keeps the base value); with `skip_unchanged` a
// tensor equal to the parameter's value (after the cast to its dtype) is left alone and
// counted as unchanged (a full fine-tuned checkpoint against its base).
struct ApplyOptions {
  std::function<void(at::Tensor& param)> before_write;
  bool skip_unchanged = false;
};
struct ApplyCount {
  int64_t tensors = 0, elements = 0;    // written
  int64_t unchanged_tensors = 0, unchanged_elements = 0;
};

// Loads tensors named by their canonical names (or any checkpoint layout) into an existing
// model: every tensor must name a parameter of the same shape; parameters it lacks keep
// their values.
ApplyCount apply_checkpoint(LlavaModel& model, const std::filesystem::path& file_or_dir, const ApplyOptions& options = {});

// One checkpoint tensor into its parameter (null: the key names none), as apply_checkpoint
// does it: ModelLoadError naming `file` and `key` for no such parameter, another shape,
// a NaN or an infinity.
void write_parameter(at::Tensor* param, const std::string& file, const std::string& key, const at::Tensor& value,
                     const ApplyOptions& options, ApplyCount& count);

// ModelLoadError naming the file, the tensor and the count when `t` (floating point)
// holds a NaN or an infinity: a weight file that would answer with token 0.
void check_finite(const at::Tensor& t, const std::string& file, const std::string& tensor_name);

}  // namespace lnb::model
