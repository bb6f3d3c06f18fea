// Blocks shared by the CLIP tower and the LLaMA decoder: RMSNorm (computed in fp32 as
// HF does), rotary position embeddings in HF's rotate-half layout, and attention through
// at::scaled_dot_product_attention. Not a general layer zoo: only what LLaVA needs.
//
// Dimension glossary: B batch, T query positions, S key positions (cache slots),
// D model width, H heads, Hkv key/value heads, Dh head width.
#pragma once

#include <string>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace lnb::model {

struct RMSNormOptions {
  RMSNormOptions(int64_t dim) : dim_(dim) {}  // NOLINT: implicit like torch's options
  TORCH_ARG(int64_t, dim);
  TORCH_ARG(double, eps) = 1e-5;
};

// y = weight * (x / sqrt(mean(x^2) + eps)), statistics in fp32, cast back before the weight.
class RMSNormImpl : public torch::nn::Module {
 public:
  explicit RMSNormImpl(const RMSNormOptions& options);
  at::Tensor forward(const at::Tensor& x);  // (..., D) -> (..., D)
  RMSNormOptions options;
  at::Tensor weight;  // (D)
};
TORCH_MODULE(RMSNorm);

// While one is alive on this thread, block linears skip their random init. The loader
// uses it: it overwrites every weight, and kaiming-initialising a 7B model costs tens of
// seconds of CPU for numbers nobody reads.
class SkipInitGuard {
 public:
  SkipInitGuard();
  ~SkipInitGuard();
  SkipInitGuard(const SkipInitGuard&) = delete;
  SkipInitGuard& operator=(const SkipInitGuard&) = delete;

 private:
  bool previous_;
};

// A bias-free linear layer (the LLaMA block projections) that can carry a LoRA adapter,
// as PEFT's lora.Linear: y = x W^T + B(A(dropout(x))) * scaling with A (r, in), B (out, r)
// registered as submodules `lora_A`, `lora_B` — so the canonical names are
// "...q_proj.lora_A.weight", PEFT's own keys after its "base_model.model." prefix.
class AdaptableLinearImpl : public torch::nn::Module {
 public:
  AdaptableLinearImpl(int64_t in_features, int64_t out_features);
  at::Tensor forward(const at::Tensor& x);  // (..., in) -> (..., out)

  // PEFT's init_lora_weights=True: A kaiming_uniform(a=sqrt(5)) from the current default
  // generator, B zeros (the adapter starts as the identity). scaling = alpha / rank.
  void add_lora(int64_t rank, double alpha, double dropout);
  bool has_lora() const { return !lora_A.is_empty(); }
  // W += (B A) * scaling, then the adapter is removed (PEFT merge_and_unload).
  void merge_lora();
  // Drops the adapter, W untouched (PEFT unload): the base layer again, bit for bit.
  void remove_lora();

  int64_t in_features, out_features;
  at::Tensor weight;  // (out, in)
  torch::nn::Linear lora_A{nullptr}, lora_B{nullptr};
  double lora_scaling = 0, lora_dropout = 0;
};
TORCH_MODULE(AdaptableLinear);

// A bottleneck adapter (Houlsby et al. 2019, Pfeiffer et al. 2021; He et al. 2022's
// parallel form): adapter(x) = up(act(down(x))) * scaling with down (D -> bottleneck) and
// up (bottleneck -> D), both with biases, registered as `adapter_down` and `adapter_up`
// (AdapterHub's names). Init as AdapterHub's "mam_adapter" and PEFT's LoRA: down keeps
// nn.Linear's kaiming_uniform(a = sqrt 5) from the default generator, up is zeros, so a
// fresh adapter adds nothing. The caller adds the residual (where depends on placement).
class BottleneckAdapterImpl : public torch::nn::Module {
 public:
  // non_linearity: relu | gelu | silu | tanh (std::invalid_argument otherwise).
  BottleneckAdapterImpl(int64_t dim, int64_t bottleneck, const std::string& non_linearity, double scaling);
  at::Tensor forward(const at::Tensor& x);  // (..., D) -> (..., D)
  torch::nn::Linear adapter_down{nullptr}, adapter_up{nullptr};
  std::string non_linearity;
  double scaling;
};
TORCH_MODULE(BottleneckAdapter);
bool is_adapter_non_linearity(const std::string& name);

// P-tuning v2 / prefix-tuning's trained key/value prefix, in PEFT's PrefixEncoder layout:
// `embedding` (P, L * 2 * Hkv * Dh) holds every layer's keys and values for P virtual
// tokens; with a reparameterisation width (projection > 0) `embedding` is (P, Hkv * Dh)
// and `transform` (Linear, Tanh, Linear) maps it to that layout during training.
// forward() gives (P, L * 2 * Hkv * Dh); fold() replaces the MLP by its output (PEFT's
// inference form). Init: nn.Embedding's normal(0, 1), nn.Linear's defaults (PEFT's).
class PrefixEncoderImpl : public torch::nn::Module {
 public:
  PrefixEncoderImpl(int64_t length, int64_t token_dim, int64_t n_layers, int64_t projection);
  at::Tensor forward();
  void fold();
  bool projected() const { return !transform.is_empty(); }
  int64_t length, token_dim, n_layers;
  torch::nn::Embedding embedding{nullptr};
  torch::nn::Sequential transform{nullptr};
};
TORCH_MODULE(PrefixEncoder);

// Rotary tables for the given positions: cos and sin, each (B, T, Dh) in fp32, HF layout
// (the Dh/2 frequencies repeated twice), inv_freq = 1 / theta^(2i/Dh) computed in fp32.
struct Rotary {
  at::Tensor cos, sin;
};
Rotary rotary_tables(const at::Tensor& positions /* (B, T) int64 */, int64_t head_dim, double theta);

// rotary_tables for positions [0, capacity) computed once; lookup() gathers rows, so a
// decode step's tables are an index_select on the device instead of a recomputation.
// Entry p is rotary_tables at position p: the same fp32 expression (cos/sin of a longer
// tensor may round a last bit differently, so prefill and decode both read the table).
struct RotaryTable {
  RotaryTable(int64_t capacity, int64_t head_dim, double theta, const at::TensorOptions& options);
  Rotary lookup(const at::Tensor& positions /* (B, T) int64 on the table's device */) const;
  int64_t capacity() const { return cos.size(0); }
  at::Tensor cos, sin;  // (capacity, Dh) fp32
};

// x * cos + rotate_half(x) * sin for x (B, H, T, Dh); the tables broadcast over heads.
at::Tensor apply_rotary(const at::Tensor& x, const Rotary& rotary);

// Multi-head attention core. q (B, H, T, Dh), k and v (B, Hkv, S, Dh) with H % Hkv == 0
// (GQA: each key/value head serves H/Hkv query heads), mask (B, 1, T, S) bool (true =
// attend) or undefined. Returns (B, H, T, Dh). Uses SDPA with scale Dh^-0.5.
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask);

// The same attention with GQA served by folding each key/value head's n_rep query heads
// into its query rows, q (B, Hkv, n_rep*T, Dh), instead of copying the keys and values
// n_rep times: the decode step reads the whole cache every step, and that copy was most
// of its time. Same arguments and result as attention().
at::Tensor attention_grouped(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask);

// The slow reference for tests: explicit softmax(q k^T * scale + mask) v in fp64.
at::Tensor attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask);

}  // namespace lnb::model
