// Batched greedy decoding with a KV cache. Rows are left-padded to a common length; each
// row has its own RoPE positions (counting only its real tokens) and a key mask that hides
// its padding, so a row decodes exactly as it would alone — the batch-size bugs of the
// peers (lmms-eval#236, LLaVA#1928) are positions and masks gone wrong. Image features
// come in precomputed (the harness caches them).
//
// generate() is the engine: a request may start with a shared prefix whose keys and
// values a PrefixStore holds (model/prefix_cache.h), so only its own suffix is prefilled;
// the cache of a batch is laid out [prefixes, right-aligned | suffixes, left-padded |
// generated], which keeps "slot order = causal order" for every row. Decoding then runs a
// static-shape step: the cache has a fixed capacity, token, positions and write slot are
// device tensors the step advances itself, RoPE comes from a precomputed table, finished
// rows stay as masked rows (no cache re-gathering), and the host reads one (B) tensor per
// step for the stop checks. On CUDA the step is captured once per (batch bucket,
// capacity bucket) as a CUDA graph and replayed.
//
// generate_reference() is the slow twin kept for the tests (STYLE.md rule 5): no prefix,
// masks and RoPE rebuilt every step, finished rows gathered out of the cache.
//
// Glossary: B rows, L padded prompt length, P prefix slots, S suffix slots, Np image
// positions per image, Dv vision width.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "model/llava.h"
#include "model/sampling.h"
#include "model/tokenizer.h"

namespace lnb::model {

struct GenerationRequest {
  std::vector<int64_t> prompt;  // ids; kImageSlot (or an expanded run of the image token) per image
  at::Tensor image_features;    // (n_images, Np, Dv) CLIP features, or undefined for text-only
  int64_t prefix_node = -1;     // with a PrefixStore: the node this prompt starts with (-1: none)
  uint64_t sample_key = 0;      // the request's own draws when sampling (sample_key(request id))
};

struct GenerationOptions {
  int64_t max_new_tokens = 128;
  std::vector<int64_t> eos_ids;   // empty: the tokenizer's EOS
  bool stop_at_eos = true;        // false: always max_new_tokens (parity runs)
  std::vector<std::string> stop;  // stop strings, cut from the text (LLaVA's KeywordsStoppingCriteria)
  bool keep_logits = false;       // fill GenerationResult::prompt_logits / step_logits
  SamplingOptions sampling;       // default greedy (model/sampling.h)
  int64_t min_new_tokens = 0;     // EOS is not chosen before this many tokens (HF MinNewTokensLength)
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
  int64_t prefill_tokens = 0, decode_tokens = 0;  // positions run in prefill (padding included); tokens generated
  double prefill_seconds = 0, decode_seconds = 0;
  int64_t prefix_computed = 0;  // prefix positions run through the decoder (once per node)
  int64_t prefix_reused = 0;    // prefix positions rows took from the store
  int64_t padding = 0;          // prefill positions that were left padding
  int64_t decode_steps = 0;     // static decode steps run (each over the whole batch)
  int64_t graph_replays = 0;    // of them, CUDA graph replays
};

// Token ids, image mask and image rows of one request after image expansion.
struct ExpandedPrompt {
  std::vector<int64_t> ids;
  std::vector<uint8_t> is_image;
  int64_t n_images = 0;
};
ExpandedPrompt expand_image_slots(const std::vector<int64_t>& prompt, int64_t n_patches, int64_t image_token_id,
                                  int64_t lookup_id);

namespace detail {
// Stop logic shared by both decoders. take_token: appends `token` to r (unless it is an
// EOS) and says whether the row is finished (EOS, a stop string, or the budget).
bool take_token(GenerationResult& r, int64_t token, const std::vector<int64_t>& eos, const GenerationOptions& opt,
                const Tokenizer& tokenizer);
// Final text: decoded, cut at the stop string, whitespace-stripped; "length" if unset.
void finish(GenerationResult& r, const GenerationOptions& opt, const Tokenizer& tokenizer);
}  // namespace detail

class PrefixStore;
struct DecodeBuffers;

class Generator {
 public:
  // image_token_id: id at image positions in expanded prompts (llava-hf) or kImageSlot;
  // pad_id: any valid id, used for padding and placeholder lookups (never attended).
  Generator(LlavaModel model, const Tokenizer& tokenizer, int64_t image_token_id, int64_t pad_id);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // prefixes: the store the requests' prefix_node refer to (nodes are computed here on
  // first use); null = no sharing. With a prefix, prompt_logits cover the suffix only.
  std::vector<GenerationResult> generate(const std::vector<GenerationRequest>& batch, const GenerationOptions& options,
                                         GenerationStats* stats = nullptr, PrefixStore* prefixes = nullptr);
  // The slow reference: no sharing, the dynamic per-step decoder.
  std::vector<GenerationResult> generate_reference(const std::vector<GenerationRequest>& batch,
                                                   const GenerationOptions& options, GenerationStats* stats = nullptr);

  // CUDA graphs for the decode step (only on a CUDA device; ignored elsewhere).
  void set_cuda_graphs(bool on) { cuda_graphs_ = on; }
  bool uses_cuda_graphs() const;

 private:
  void ensure_prefix(PrefixStore& store, int64_t node, const GenerationRequest& request, GenerationStats* stats);
  const RotaryTable& rotary(int64_t positions);
  DecodeBuffers& buffers(int64_t rows, int64_t capacity, bool keep_logits);
  void decode_step(DecodeBuffers& d, int64_t attend);

  LlavaModel model_;
  const Tokenizer& tokenizer_;
  int64_t image_token_id_, pad_id_;
  bool cuda_graphs_ = false;
  std::unique_ptr<RotaryTable> rotary_;
  std::vector<std::unique_ptr<DecodeBuffers>> pool_;  // graph mode: bucketed buffers with their graphs
};

}  // namespace lnb::model
