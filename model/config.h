// Model configurations: HF LlavaForConditionalGeneration (llava-hf), original LLaVA
// (mm_projector_type, a separate CLIP), plain LLaMA, and the built-in presets of
// specs/model.md. Every field is declared once here with its HF default.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lnb::model {

struct ClipVisionConfig {
  int64_t hidden_size = 1024, intermediate_size = 4096, n_layers = 24, n_heads = 16;
  int64_t image_size = 336, patch_size = 14, n_channels = 3;
  double layer_norm_eps = 1e-5;
  int64_t feature_layer = -2;  // hidden_states index LLaVA takes (CLS dropped)
  int64_t n_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
};

struct LlamaConfig {
  int64_t vocab_size = 32000, hidden_size = 4096, intermediate_size = 11008, n_layers = 32;
  int64_t n_heads = 32, n_kv_heads = 32, max_position_embeddings = 4096;
  double rms_norm_eps = 1e-6, rope_theta = 10000.0;  // HF LlamaConfig defaults
  bool tie_word_embeddings = false;
  int64_t explicit_head_dim = 0;  // config's head_dim when given; 0 = hidden_size / n_heads
  int64_t head_dim() const { return explicit_head_dim > 0 ? explicit_head_dim : hidden_size / n_heads; }
};

enum class ProjectorKind { kLinear, kMlp2xGelu };

struct LlavaConfig {
  std::string name;           // preset name or the config's path
  ClipVisionConfig vision;
  LlamaConfig text;
  ProjectorKind projector = ProjectorKind::kMlp2xGelu;
  bool has_vision = true;     // false for a plain LLaMA
  int64_t image_token_index = 32000;
  int64_t pad_token_id = -1;  // -1: none given
  // kExpanded: the prompt holds Np copies of image_token_index (llava-hf); kPlaceholder:
  // one kImageSlot (-200) replaced by Np feature rows (original LLaVA).
  enum class ImageMerge { kExpanded, kPlaceholder } image_merge = ImageMerge::kExpanded;
  std::string vision_tower;         // original LLaVA: mm_vision_tower (a CLIP folder or hub name)
  bool pad_to_square = false;       // original LLaVA: image_aspect_ratio == "pad"
};

// config.json of a model folder: model_type "llava" (HF), "llava_llama"/"llava" with
// mm_projector_type (original LLaVA), or "llama". Throws std::runtime_error naming the
// file, the field, what was expected and what was found.
LlavaConfig load_config(const std::filesystem::path& model_dir);
LlavaConfig parse_config_json(const std::string& json_text, const std::string& file);

// A CLIP folder's config.json (CLIPConfig with vision_config, or CLIPVisionConfig).
ClipVisionConfig load_clip_config(const std::filesystem::path& clip_dir);
ClipVisionConfig parse_clip_config_json(const std::string& json_text, const std::string& file);

// paper-llama2-7b, paper-llama2-13b (LLaMA-2 + CLIP ViT-L/14 at 224 px + a linear
// connector: the paper's setting), llava-1.5-7b, llava-1.5-13b.
const std::vector<std::string>& preset_names();
LlavaConfig preset(const std::string& name);  // throws std::invalid_argument listing them

}  // namespace lnb::model
