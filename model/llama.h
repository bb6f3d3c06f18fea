// LLaMA decoder (transformers' modeling_llama.py): RMSNorm in fp32, RoPE with the config's
// theta in the rotate-half layout, grouped-query attention, SwiGLU MLP, and a KV cache
// with per-row key masks so left-padded batches decode exactly like single rows.
// The head (lm_head) belongs to the LLaVA model, not here.
//
// Glossary: B rows, T new positions, S cache slots, D width, H heads, Hkv key/value heads,
// Dh head width, I MLP width, V vocabulary.
#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "model/config.h"
#include "model/layers.h"

namespace lnb::model {

// Keys and values of every layer for B rows and up to `capacity` slots. Slot j of every
// row holds the same step; a row's left padding occupies its first slots, marked invalid
// in `valid` so no query attends to it.
struct KvCache {
  KvCache(const LlamaConfig& c, int64_t batch, int64_t capacity, const at::TensorOptions& options);
  std::vector<at::Tensor> k, v;  // per layer (B, Hkv, capacity, Dh)
  at::Tensor valid;              // (B, capacity) bool
  int64_t length = 0;            // slots filled
  int64_t capacity() const { return valid.size(1); }
  // Keeps rows `rows` (int64 indices) only: finished rows leave the batch.
  void select_rows(const at::Tensor& rows);
  // Views of rows [0, n): writes through them land in this cache (a bucketed decoder's
  // cache prefilled for fewer real rows).
  KvCache first_rows(int64_t n) const;

 private:
  KvCache() = default;
};

// One layer's trained prefix-tuning keys and values (PrefixEncoder), each (1, Hkv, P, Dh),
// the keys already rotary-encoded. Every query attends to them before the cache's slots.
struct PrefixKv {
  at::Tensor k, v;
};

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  explicit LlamaAttentionImpl(const LlamaConfig& c);
  // x (B, T, D); writes this step's keys/values to cache slots [start, start + T) of
  // `k_cache`/`v_cache` (B, Hkv, S, Dh) when given, and attends over slots [0, start + T)
  // (and first over `prefix`'s P keys when given: the mask gains P leading true columns).
  at::Tensor forward(const at::Tensor& x, const Rotary& rotary, const at::Tensor& mask, at::Tensor* k_cache,
                     at::Tensor* v_cache, int64_t start, const PrefixKv* prefix = nullptr);
  // The static decode step (T == 1): this step's keys/values go to the slot held in
  // `slot` ((1,) int64 on the device, so the step has fixed shapes and replays as a CUDA
  // graph), and the query attends over slots [0, attend) under `mask` (B, 1, 1, attend).
  at::Tensor forward_step(const at::Tensor& x, const Rotary& rotary, const at::Tensor& mask, at::Tensor& k_cache,
                          at::Tensor& v_cache, const at::Tensor& slot, int64_t attend, const PrefixKv* prefix = nullptr);
  LlamaConfig config;
  AdaptableLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
};
TORCH_MODULE(LlamaAttention);

class LlamaMlpImpl : public torch::nn::Module {
 public:
  explicit LlamaMlpImpl(const LlamaConfig& c);
  at::Tensor forward(const at::Tensor& x);  // down(silu(gate(x)) * up(x))
  AdaptableLinear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(LlamaMlp);

// Where a layer's bottleneck adapters sit (BottleneckAdapter; the residuals as AdapterHub
// and He et al. place them in a pre-norm block):
//   kSequential  Pfeiffer: m = mlp(n); m += mlp_adapter(m)             (after the MLP)
//                Houlsby adds a = attn(n1); a += attn_adapter(a)       (after attention too)
//   kParallel    He et al.: m = mlp(n) + mlp_adapter(n), n the MLP's normed input
enum class AdapterPlacement { kSequential, kParallel };

class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  explicit LlamaDecoderLayerImpl(const LlamaConfig& c);
  at::Tensor forward(const at::Tensor& x, const Rotary& rotary, const at::Tensor& mask, at::Tensor* k_cache,
                     at::Tensor* v_cache, int64_t start, const PrefixKv* prefix = nullptr);
  at::Tensor forward_step(const at::Tensor& x, const Rotary& rotary, const at::Tensor& mask, at::Tensor& k_cache,
                          at::Tensor& v_cache, const at::Tensor& slot, int64_t attend, const PrefixKv* prefix = nullptr);
  // Registers `attn_adapter` (when `attn` is given) and `mlp_adapter`, on the layer's
  // device and dtype; remove_adapters() drops them, the block is the base one again.
  void add_adapters(int64_t bottleneck, const std::string& non_linearity, double scaling, AdapterPlacement placement,
                    bool attn);
  void remove_adapters();
  bool has_adapters() const { return !mlp_adapter.is_empty(); }
  LlamaAttention self_attn{nullptr};
  LlamaMlp mlp{nullptr};
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  BottleneckAdapter attn_adapter{nullptr}, mlp_adapter{nullptr};
  AdapterPlacement adapter_placement = AdapterPlacement::kSequential;

 private:
  at::Tensor mlp_block(const at::Tensor& h);  // h + the MLP sublayer (adapters included)
  at::Tensor attn_out(at::Tensor a);          // the attention sublayer's output, Houlsby's adapter applied
};
TORCH_MODULE(LlamaDecoderLayer);

// What one decoder pass needs besides the embeddings.
struct DecoderInputs {
  at::Tensor positions;  // (B, T) int64 RoPE positions
  at::Tensor mask;       // (B, 1, T, S) bool, true = attend; undefined = causal over T
};

class LlamaModelImpl : public torch::nn::Module {
 public:
  explicit LlamaModelImpl(const LlamaConfig& c);
  // embeds (B, T, D) -> final-normed hidden states (B, T, D). With a cache, this step's
  // keys/values go to slots [cache->length, cache->length + T) and length advances.
  // rotary: precomputed tables for in.positions (RotaryTable::lookup); null = computed here.
  at::Tensor forward(const at::Tensor& embeds, const DecoderInputs& in, KvCache* cache, const Rotary* rotary = nullptr);
  // One static decode step over embeds (B, 1, D): keys/values to slot `slot` of every
  // row, attention over slots [0, attend) under `mask` (B, 1, 1, attend); cache->length
  // is the caller's. Returns final-normed hidden states (B, 1, D).
  at::Tensor forward_step(const at::Tensor& embeds, const Rotary& rotary, const at::Tensor& mask, KvCache& cache,
                          const at::Tensor& slot, int64_t attend);
  // Prefix-tuning (PrefixEncoder, registered as `prefix`, on the model's device and
  // dtype); remove_prefix() drops it.
  void add_prefix(int64_t length, int64_t projection);
  void remove_prefix();
  bool has_prefix() const { return !prefix.is_empty(); }
  // Every layer's prefix keys and values from the encoder: keys rotary-encoded at
  // position -P, so a query at position t scores them exactly as PEFT's query at P + t
  // scores its unrotated past keys (RoPE is relative; the real tokens keep 0-based
  // positions). Empty without a prefix; `only_layer` >= 0: that layer's alone (the
  // recomputed block of one layer needs no other's).
  std::vector<PrefixKv> prefix_kvs(int64_t only_layer = -1);
  LlamaConfig config;
  // Training only (is_training(), grad mode on, no cache): each decoder layer keeps just
  // its input and recomputes its activations in backward (model/recompute.h).
  bool gradient_checkpointing = false;
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};
  PrefixEncoder prefix{nullptr};

 private:
  std::vector<LlamaDecoderLayerImpl*> layer_ptrs_;
};
TORCH_MODULE(LlamaModel);

// The attention mask of a step: query t of row b (cache slot start + t) sees slot s when
// s is valid for the row and s <= start + t; every query also sees its own slot, so a
// padding query never has an empty softmax. (B, 1, T, start + T) bool.
at::Tensor step_mask(const at::Tensor& valid /* (B, S) */, int64_t start, int64_t n_new);

}  // namespace lnb::model
