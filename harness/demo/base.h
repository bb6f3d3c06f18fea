// The demo's base model, made the way real ones are, from the shapes world's files:
// a sentencepiece tokenizer (BPE with byte fallback, LLaMA's settings) trained on the
// corpus, a CLIP-style vision tower trained contrastively on image/caption pairs (with a
// small bag-of-n-grams text tower that is discarded), and a LLaMA trained on the corpus
// and the text-only chats (vicuna_v1, assistant turns as labels, as Vicuna was). Saved as
// an HF llava-hf folder (config.json, model.safetensors, preprocessor_config.json,
// tokenizer.model) with a freshly initialised projector: stage 1 trains it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace lnb::harness::demo {

struct BaseSpec {
  uint64_t seed = 7;
  int64_t vocab_pieces = 640;  // sentencepiece pieces; the LLM adds <image> and <pad>
  int64_t image_side = 72, patch = 24;  // one patch per cell of the world's 3×3 grid
  int64_t vision_width = 128, vision_layers = 4, vision_heads = 4, vision_mlp = 256;
  int64_t width = 128, layers = 4, heads = 4, kv_heads = 4, mlp = 352, max_positions = 512;
  int64_t clip_steps = 800, clip_batch = 128;
  double clip_lr = 2e-3;
  int64_t lm_steps = 700, lm_batch = 32, lm_max_tokens = 160;
  double lm_lr = 3e-3;
  nlohmann::ordered_json to_json() const;
};

BaseSpec base_preset(const std::string& name);  // "default" | "test"

// Reports one phase's progress: phase, step, total steps, current loss.
using BaseProgress = std::function<void(const std::string& phase, int64_t step, int64_t total, double loss)>;

// Builds the base model from `world_dir` into `out_dir` (lnbench_base.json written last:
// its presence with the same spec and world marks the folder complete). Returns it.
nlohmann::ordered_json build_base_model(const BaseSpec& spec, const std::filesystem::path& world_dir,
                                        const std::filesystem::path& out_dir, const BaseProgress& progress = {});

bool base_is_current(const BaseSpec& spec, const std::filesystem::path& world_dir, const std::filesystem::path& out_dir);

}  // namespace lnb::harness::demo
