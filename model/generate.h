// Batched greedy decoding with a KV cache. Rows are left-padded to a common length; each
// row has its own RoPE positions (counting only its real tokens) and a key mask that hides
// its padding, so a row decodes exactly as it would alone — the batch-size bugs of the
// peers (lmms-eval#236, LLaVA#1928) are positions and masks gone wrong. Finished rows
// leave the batch. Image features come in precomputed (the harness caches them).
//
// Glossary: B rows, L padded prompt length, Np image positions per image, Dv vision width.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "model/llava.h"
#include "model/tokenizer.h"

namespace lnb::model {

struct GenerationRequest {
  std::vector<int64_t> prompt;  // ids; kImageSlot (or an expanded run of the image token) per image
  at::Tensor image_features;    // (n_images, Np, Dv) CLIP features, or undefined for text-only
};

struct GenerationOptions {
  int64_t max_new_tokens = 128;
  std::vector<int64_t> eos_ids;   // empty: the tokenizer's EOS
  bool stop_at_eos = true;        // false: always max_new_tokens (parity runs)
  std::vector<std::string> stop;  // stop strings, cut from the text (LLaVA's KeywordsStoppingCriteria)
  bool keep_logits = false;       // fill GenerationResult::prompt_logits / step_logits
};

struct GenerationResult {
  std::vector<int64_t> tokens;  // generated ids, EOS excluded
  std::string text;             // decoded, stop string cut, whitespace-stripped
  std::string stop_reason;      // "eos", "stop", "length"
  int64_t prompt_tokens = 0;    // positions after image expansion
  at::Tensor prompt_logits;     // (T, V) fp32, keep_logits only
  at::Tensor step_logits;       // (n_new, V) fp32, logits that chose each generated token
};

struct GenerationStats {
  int64_t prefill_tokens = 0, decode_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
};

// Token ids, image mask and image rows of one request after image expansion.
struct ExpandedPrompt {
  std::vector<int64_t> ids;
  std::vector<uint8_t> is_image;
  int64_t n_images = 0;
};
ExpandedPrompt expand_image_slots(const std::vector<int64_t>& prompt, int64_t n_patches, int64_t image_token_id,
                                  int64_t lookup_id);

class Generator {
 public:
  // image_token_id: id at image positions in expanded prompts (llava-hf) or kImageSlot;
  // pad_id: any valid id, used for padding and placeholder lookups (never attended).
  Generator(LlavaModel model, const Tokenizer& tokenizer, int64_t image_token_id, int64_t pad_id);
  std::vector<GenerationResult> generate(const std::vector<GenerationRequest>& batch, const GenerationOptions& options,
                                         GenerationStats* stats = nullptr);

 private:
  LlavaModel model_;
  const Tokenizer& tokenizer_;
  int64_t image_token_id_, pad_id_;
};

}  // namespace lnb::model
