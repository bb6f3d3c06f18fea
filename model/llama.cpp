// See llama.h.
#include "model/llama.h"

#include <ATen/ATen.h>

#include <tuple>

#include "model/recompute.h"

namespace lnb::model {

KvCache::KvCache(const LlamaConfig& c, int64_t batch, int64_t cap, const at::TensorOptions& options) {
  for (int64_t l = 0; l < c.n_layers; ++l) {
    k.push_back(at::zeros({batch, c.n_kv_heads, cap, c.head_dim()}, options));  // (B, Hkv, S, Dh)
    v.push_back(at::zeros({batch, c.n_kv_heads, cap, c.head_dim()}, options));
  }
  valid = at::zeros({batch, cap}, options.dtype(at::kBool));
}

void KvCache::select_rows(const at::Tensor& rows) {
  for (auto& t : k) t = t.index_select(0, rows);
  for (auto& t : v) t = t.index_select(0, rows);
  valid = valid.index_select(0, rows);
}

KvCache KvCache::first_rows(int64_t n) const {
  TORCH_CHECK(n >= 1 && n <= valid.size(0), "KvCache::first_rows: ", n, " of ", valid.size(0), " rows");
  KvCache c;
  for (const auto& t : k) c.k.push_back(t.narrow(0, 0, n));
  for (const auto& t : v) c.v.push_back(t.narrow(0, 0, n));
  c.valid = valid.narrow(0, 0, n);
  c.length = length;
  return c;
}

at::Tensor step_mask(const at::Tensor& valid, int64_t start, int64_t n_new) {
  const int64_t S = start + n_new;
  TORCH_CHECK(valid.dim() == 2 && valid.size(1) >= S, "step_mask: valid must be (B, >= ", S, ")");
  const auto lopts = at::TensorOptions().dtype(at::kLong).device(valid.device());
  const at::Tensor query_slot = at::arange(start, S, lopts).view({n_new, 1});    // (T, 1)
  const at::Tensor key_slot = at::arange(0, S, lopts).view({1, S});              // (1, S)
  const at::Tensor causal = key_slot <= query_slot;                               // (T, S)
  const at::Tensor self = key_slot == query_slot;                                 // (T, S)
  const at::Tensor keys = valid.narrow(1, 0, S).unsqueeze(1);                     // (B, 1, S)
  return (keys.logical_and(causal.unsqueeze(0))).logical_or(self.unsqueeze(0)).unsqueeze(1);  // (B, 1, T, S)
}

LlamaAttentionImpl::LlamaAttentionImpl(const LlamaConfig& c) : config(c) {
  const int64_t D = c.hidden_size, Dh = c.head_dim();
  auto linear = [](int64_t in, int64_t out) { return AdaptableLinear(in, out); };
  q_proj = register_module("q_proj", linear(D, c.n_heads * Dh));
  k_proj = register_module("k_proj", linear(D, c.n_kv_heads * Dh));
  v_proj = register_module("v_proj", linear(D, c.n_kv_heads * Dh));
  o_proj = register_module("o_proj", linear(c.n_heads * Dh, D));
}

namespace {
struct Qkv {
  at::Tensor q, k, v;  // (B, H, T, Dh), (B, Hkv, T, Dh), (B, Hkv, T, Dh)
};
// The prefix's keys and values before the step's (B, Hkv, P + S, Dh), and the mask
// (B, 1, T, S) widened by P columns every query attends.
std::tuple<at::Tensor, at::Tensor, at::Tensor> with_prefix(const PrefixKv& p, const at::Tensor& k, const at::Tensor& v,
                                                           const at::Tensor& mask) {
  const int64_t B = k.size(0), P = p.k.size(2);
  TORCH_CHECK(mask.defined(), "prefix attention needs an explicit mask");
  const at::Tensor m = mask.expand({B, 1, mask.size(2), mask.size(3)});
  return {at::cat({p.k.expand({B, -1, -1, -1}), k}, 2), at::cat({p.v.expand({B, -1, -1, -1}), v}, 2),
          at::cat({at::ones({B, 1, m.size(2), P}, m.options()), m}, 3)};
}

Qkv project_qkv(LlamaAttentionImpl& a, const at::Tensor& x, const Rotary& rotary) {
  const int64_t B = x.size(0), T = x.size(1), Dh = a.config.head_dim();
  return {apply_rotary(a.q_proj->forward(x).view({B, T, a.config.n_heads, Dh}).transpose(1, 2), rotary),
          apply_rotary(a.k_proj->forward(x).view({B, T, a.config.n_kv_heads, Dh}).transpose(1, 2), rotary),
          a.v_proj->forward(x).view({B, T, a.config.n_kv_heads, Dh}).transpose(1, 2)};
}
}  // namespace

at::Tensor LlamaAttentionImpl::forward(const at::Tensor& x, const Rotary& rotary, const at::Tensor& mask,
                                       at::Tensor* k_cache, at::Tensor* v_cache, int64_t start, const PrefixKv* prefix) {
  const int64_t B = x.size(0), T = x.size(1), Dh = config.head_dim();
  auto [q, k, v] = project_qkv(*this, x, rotary);
  if (k_cache != nullptr) {
    k_cache->narrow(2, start, T).copy_(k);
    v_cache->narrow(2, start, T).copy_(v);
    k = k_cache->narrow(2, 0, start + T);  // (B, Hkv, S, Dh)
    v = v_cache->narrow(2, 0, start + T);
  }
  at::Tensor m = mask;
  if (prefix != nullptr) std::tie(k, v, m) = with_prefix(*prefix, k, v, mask);
  // With a cache (inference) the keys are the whole cache: fold GQA into the queries
  // rather than copy it. Training (no cache) keeps the copying form it was tested with.
  const at::Tensor out = k_cache != nullptr ? attention_grouped(q, k, v, m) : attention(q, k, v, m);  // (B, H, T, Dh)
  return o_proj->forward(out.transpose(1, 2).reshape({B, T, config.n_heads * Dh}));  // (B, T, D)
}

at::Tensor LlamaAttentionImpl::forward_step(const at::Tensor& x, const Rotary& rotary, const at::Tensor& mask,
                                            at::Tensor& k_cache, at::Tensor& v_cache, const at::Tensor& slot,
                                            int64_t attend, const PrefixKv* prefix) {
  const int64_t B = x.size(0), Dh = config.head_dim();
  TORCH_CHECK(x.size(1) == 1, "forward_step: one position per row, got ", x.size(1));
  const auto [q, k, v] = project_qkv(*this, x, rotary);
  k_cache.index_copy_(2, slot, k);  // (B, Hkv, S, Dh) <- (B, Hkv, 1, Dh) at the device-held slot
  v_cache.index_copy_(2, slot, v);
  at::Tensor keys = k_cache.narrow(2, 0, attend), values = v_cache.narrow(2, 0, attend), m = mask;
  if (prefix != nullptr) std::tie(keys, values, m) = with_prefix(*prefix, keys, values, mask);
  const at::Tensor out = attention_grouped(q, keys, values, m);  // (B, H, 1, Dh)
  return o_proj->forward(out.transpose(1, 2).reshape({B, 1, config.n_heads * Dh}));                     // (B, 1, D)
}

LlamaMlpImpl::LlamaMlpImpl(const LlamaConfig& c) {
  auto linear = [](int64_t in, int64_t out) { return AdaptableLinear(in, out); };
  gate_proj = register_module("gate_proj", linear(c.hidden_size, c.intermediate_size));
  up_proj = register_module("up_proj", linear(c.hidden_size, c.intermediate_size));
  down_proj = register_module("down_proj", linear(c.intermediate_size, c.hidden_size));
}

at::Tensor LlamaMlpImpl::forward(const at::Tensor& x) {
  return down_proj->forward(at::silu(gate_proj->forward(x)) * up_proj->forward(x));
}

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const LlamaConfig& c) {
  self_attn = register_module("self_attn", LlamaAttention(c));
  mlp = register_module("mlp", LlamaMlp(c));
  input_layernorm = register_module("input_layernorm", RMSNorm(RMSNormOptions(c.hidden_size).eps(c.rms_norm_eps)));
  post_attention_layernorm =
      register_module("post_attention_layernorm", RMSNorm(RMSNormOptions(c.hidden_size).eps(c.rms_norm_eps)));
}

void LlamaDecoderLayerImpl::add_adapters(int64_t bottleneck, const std::string& non_linearity, double scaling,
                                         AdapterPlacement placement, bool attn) {
  TORCH_CHECK(!has_adapters(), "add_adapters: the layer already has adapters");
  TORCH_CHECK(!(attn && placement == AdapterPlacement::kParallel), "add_adapters: a parallel adapter sits at the MLP only");
  const at::Tensor& w = input_layernorm->weight;
  const int64_t D = w.size(0);
  if (attn) {
    attn_adapter = register_module("attn_adapter", BottleneckAdapter(D, bottleneck, non_linearity, scaling));
    attn_adapter->to(w.device(), w.scalar_type());
  }
  mlp_adapter = register_module("mlp_adapter", BottleneckAdapter(D, bottleneck, non_linearity, scaling));
  mlp_adapter->to(w.device(), w.scalar_type());
  adapter_placement = placement;
}

void LlamaDecoderLayerImpl::remove_adapters() {
  if (!attn_adapter.is_empty()) unregister_module("attn_adapter");
  if (!mlp_adapter.is_empty()) unregister_module("mlp_adapter");
  attn_adapter = BottleneckAdapter{nullptr};
  mlp_adapter = BottleneckAdapter{nullptr};
  adapter_placement = AdapterPlacement::kSequential;
}

at::Tensor LlamaDecoderLayerImpl::attn_out(at::Tensor a) {
  return attn_adapter.is_empty() ? a : a + attn_adapter->forward(a);
}

at::Tensor LlamaDecoderLayerImpl::mlp_block(const at::Tensor& h) {
  const at::Tensor n = post_attention_layernorm->forward(h);
  const at::Tensor m = mlp->forward(n);
  if (mlp_adapter.is_empty()) return h + m;
  if (adapter_placement == AdapterPlacement::kParallel) return h + (m + mlp_adapter->forward(n));
  return h + (m + mlp_adapter->forward(m));
}

at::Tensor LlamaDecoderLayerImpl::forward(const at::Tensor& x, const Rotary& rotary, const at::Tensor& mask,
                                          at::Tensor* k_cache, at::Tensor* v_cache, int64_t start, const PrefixKv* prefix) {
  const at::Tensor h = x + attn_out(self_attn->forward(input_layernorm->forward(x), rotary, mask, k_cache, v_cache, start, prefix));
  return mlp_block(h);
}

at::Tensor LlamaDecoderLayerImpl::forward_step(const at::Tensor& x, const Rotary& rotary, const at::Tensor& mask,
                                               at::Tensor& k_cache, at::Tensor& v_cache, const at::Tensor& slot,
                                               int64_t attend, const PrefixKv* prefix) {
  const at::Tensor h =
      x + attn_out(self_attn->forward_step(input_layernorm->forward(x), rotary, mask, k_cache, v_cache, slot, attend, prefix));
  return mlp_block(h);
}

LlamaModelImpl::LlamaModelImpl(const LlamaConfig& c) : config(c) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  layers = torch::nn::ModuleList();
  for (int64_t l = 0; l < c.n_layers; ++l) {
    LlamaDecoderLayer layer(c);
    layer_ptrs_.push_back(layer.get());
    layers->push_back(layer);
  }
  register_module("layers", layers);
  norm = register_module("norm", RMSNorm(RMSNormOptions(c.hidden_size).eps(c.rms_norm_eps)));
}

at::Tensor LlamaModelImpl::forward(const at::Tensor& embeds, const DecoderInputs& in, KvCache* cache, const Rotary* rotary_in) {
  TORCH_CHECK(embeds.dim() == 3 && embeds.size(2) == config.hidden_size, "LLaMA: embeds must be (B, T, ",
              config.hidden_size, "), got ", embeds.sizes());
  const int64_t B = embeds.size(0), T = embeds.size(1);
  TORCH_CHECK(in.positions.sizes() == at::IntArrayRef({B, T}), "LLaMA: positions must be (B, T)");
  const int64_t start = cache != nullptr ? cache->length : 0;
  if (cache != nullptr)
    TORCH_CHECK(start + T <= cache->capacity() && cache->valid.size(0) == B, "LLaMA: KV cache of ", cache->valid.size(0),
                " x ", cache->capacity(), " slots cannot take ", B, " x ", start + T);
  at::Tensor mask = in.mask;
  if (!mask.defined())
    mask = cache != nullptr ? step_mask(cache->valid, start, T)
                            : step_mask(at::ones({B, T}, embeds.options().dtype(at::kBool)), 0, T);
  const Rotary rotary = rotary_in != nullptr ? *rotary_in : rotary_tables(in.positions, config.head_dim(), config.rope_theta);
  at::Tensor h = embeds;
  const bool recompute = gradient_checkpointing && cache == nullptr && is_training() && at::GradMode::is_enabled();
  const std::vector<PrefixKv> pkv = recompute ? std::vector<PrefixKv>{} : prefix_kvs();  // recomputed blocks derive their own
  for (size_t l = 0; l < layer_ptrs_.size(); ++l) {
    at::Tensor* kc = cache != nullptr ? &cache->k[l] : nullptr;
    at::Tensor* vc = cache != nullptr ? &cache->v[l] : nullptr;
    LlamaDecoderLayerImpl* layer = layer_ptrs_[l];
    if (recompute) {
      std::vector<at::Tensor> trainable;
      for (const at::Tensor& t : layer->parameters())
        if (t.requires_grad()) trainable.push_back(t);
      // The recomputed block derives its prefix from the encoder's own (leaf) parameters.
      if (has_prefix())
        for (const at::Tensor& t : prefix->parameters())
          if (t.requires_grad()) trainable.push_back(t);
      if (!trainable.empty() || h.requires_grad()) {
        h = recompute_in_backward(
            [this, l, layer, rotary, mask](const at::Tensor& x) {
              if (!has_prefix()) return layer->forward(x, rotary, mask, nullptr, nullptr, 0);
              const PrefixKv mine = prefix_kvs(static_cast<int64_t>(l))[0];
              return layer->forward(x, rotary, mask, nullptr, nullptr, 0, &mine);
            },
            h, trainable);
        continue;
      }
    }
    PrefixKv own;  // a frozen layer on the recompute path runs plainly, with its own prefix
    if (has_prefix() && pkv.empty()) own = prefix_kvs(static_cast<int64_t>(l))[0];
    const PrefixKv* p = !has_prefix() ? nullptr : pkv.empty() ? &own : &pkv[l];
    h = layer->forward(h, rotary, mask, kc, vc, start, p);
  }
  if (cache != nullptr) cache->length = start + T;
  return norm->forward(h);  // (B, T, D)
}

at::Tensor LlamaModelImpl::forward_step(const at::Tensor& embeds, const Rotary& rotary, const at::Tensor& mask,
                                        KvCache& cache, const at::Tensor& slot, int64_t attend) {
  TORCH_CHECK(embeds.dim() == 3 && embeds.size(1) == 1 && embeds.size(0) == cache.valid.size(0),
              "LLaMA step: embeds must be (", cache.valid.size(0), ", 1, D), got ", embeds.sizes());
  TORCH_CHECK(attend >= 1 && attend <= cache.capacity(), "LLaMA step: attends ", attend, " of ", cache.capacity(), " slots");
  at::Tensor h = embeds;
  const std::vector<PrefixKv> pkv = prefix_kvs();
  for (size_t l = 0; l < layer_ptrs_.size(); ++l)
    h = layer_ptrs_[l]->forward_step(h, rotary, mask, cache.k[l], cache.v[l], slot, attend, pkv.empty() ? nullptr : &pkv[l]);
  return norm->forward(h);  // (B, 1, D)
}

void LlamaModelImpl::add_prefix(int64_t length, int64_t projection) {
  TORCH_CHECK(!has_prefix(), "add_prefix: the model already has a prefix");
  TORCH_CHECK(length >= 1 && length < config.max_position_embeddings, "add_prefix: a prefix of ", length,
              " virtual tokens in a context of ", config.max_position_embeddings);
  prefix = register_module("prefix", PrefixEncoder(length, config.n_kv_heads * config.head_dim(), config.n_layers, projection));
  prefix->to(norm->weight.device(), norm->weight.scalar_type());
}

void LlamaModelImpl::remove_prefix() {
  if (!has_prefix()) return;
  unregister_module("prefix");
  prefix = PrefixEncoder{nullptr};
}

std::vector<PrefixKv> LlamaModelImpl::prefix_kvs(int64_t only_layer) {
  std::vector<PrefixKv> out;
  if (!has_prefix()) return out;
  const int64_t P = prefix->length, L = config.n_layers, Hkv = config.n_kv_heads, Dh = config.head_dim();
  const at::Tensor e = prefix->forward().to(norm->weight.scalar_type());       // (P, L * 2 * Hkv * Dh)
  const at::Tensor kv = e.view({P, L, 2, Hkv, Dh}).permute({1, 2, 3, 0, 4});    // (L, 2, Hkv, P, Dh): PEFT's split
  const at::Tensor pos = at::full({1, P}, -P, e.options().dtype(at::kLong));
  const Rotary rot = rotary_tables(pos, Dh, config.rope_theta);
  for (int64_t l = only_layer >= 0 ? only_layer : 0; l < (only_layer >= 0 ? only_layer + 1 : L); ++l)
    out.push_back({apply_rotary(kv[l][0].unsqueeze(0), rot), kv[l][1].unsqueeze(0)});
  return out;
}

}  // namespace lnb::model
