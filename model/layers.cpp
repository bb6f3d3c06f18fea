// See layers.h. Numerics follow transformers' modeling_llama.py so logits agree to 1e-4.
#include "model/layers.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>

#include <stdexcept>

namespace lnb::model {

RMSNormImpl::RMSNormImpl(const RMSNormOptions& o) : options(o) {
  weight = register_parameter("weight", at::ones({o.dim()}));
}

at::Tensor RMSNormImpl::forward(const at::Tensor& x) {
  TORCH_CHECK(x.size(-1) == options.dim(), "RMSNorm: last dimension ", x.size(-1), ", expected ", options.dim());
  const at::Tensor h = x.to(at::kFloat);
  const at::Tensor variance = h.pow(2).mean(-1, /*keepdim=*/true);
  return weight * (h * at::rsqrt(variance + options.eps())).to(x.scalar_type());
}

namespace {
thread_local bool skip_init = false;
}  // namespace

SkipInitGuard::SkipInitGuard() : previous_(skip_init) { skip_init = true; }
SkipInitGuard::~SkipInitGuard() { skip_init = previous_; }

AdaptableLinearImpl::AdaptableLinearImpl(int64_t in, int64_t out) : in_features(in), out_features(out) {
  weight = register_parameter("weight", at::empty({out, in}));
  if (!skip_init) torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));  // nn.Linear's default init
}

at::Tensor AdaptableLinearImpl::forward(const at::Tensor& x) {
  at::Tensor y = at::linear(x, weight);
  if (!has_lora()) return y;
  const at::Tensor dropped = (lora_dropout > 0 && is_training()) ? at::dropout(x, lora_dropout, /*train=*/true) : x;
  return y + lora_B->forward(lora_A->forward(dropped.to(lora_A->weight.scalar_type()))).to(y.scalar_type()) * lora_scaling;
}

void AdaptableLinearImpl::add_lora(int64_t rank, double alpha, double dropout) {
  TORCH_CHECK(!has_lora(), "add_lora: the layer already has an adapter");
  TORCH_CHECK(rank > 0 && rank <= std::min(in_features, out_features), "add_lora: rank ", rank, " outside [1, ",
              std::min(in_features, out_features), "]");
  const auto opts = at::TensorOptions().dtype(weight.scalar_type()).device(weight.device());
  lora_A = register_module("lora_A", torch::nn::Linear(torch::nn::LinearOptions(in_features, rank).bias(false)));
  lora_B = register_module("lora_B", torch::nn::Linear(torch::nn::LinearOptions(rank, out_features).bias(false)));
  {
    at::NoGradGuard no_grad;
    lora_A->weight.set_data(lora_A->weight.to(opts));
    lora_B->weight.set_data(at::zeros({out_features, rank}, opts));
  }
  lora_scaling = alpha / static_cast<double>(rank);
  lora_dropout = dropout;
}

void AdaptableLinearImpl::merge_lora() {
  if (!has_lora()) return;
  {
    at::NoGradGuard no_grad;
    const at::Tensor delta = at::matmul(lora_B->weight.to(at::kFloat), lora_A->weight.to(at::kFloat)) * lora_scaling;
    weight.add_(delta.to(weight.scalar_type()));  // (out, in)
  }
  remove_lora();
}

void AdaptableLinearImpl::remove_lora() {
  if (!has_lora()) return;
  unregister_module("lora_A");
  unregister_module("lora_B");
  lora_A = torch::nn::Linear{nullptr};
  lora_B = torch::nn::Linear{nullptr};
}

bool is_adapter_non_linearity(const std::string& name) {
  return name == "relu" || name == "gelu" || name == "silu" || name == "tanh";
}

BottleneckAdapterImpl::BottleneckAdapterImpl(int64_t dim, int64_t bottleneck, const std::string& act, double s)
    : non_linearity(act), scaling(s) {
  if (!is_adapter_non_linearity(act))
    throw std::invalid_argument("adapter non-linearity '" + act + "': expected one of relu, gelu, silu, tanh");
  TORCH_CHECK(bottleneck >= 1 && bottleneck <= dim, "adapter bottleneck ", bottleneck, " outside [1, ", dim, "]");
  adapter_down = register_module("adapter_down", torch::nn::Linear(dim, bottleneck));
  adapter_up = register_module("adapter_up", torch::nn::Linear(bottleneck, dim));
  at::NoGradGuard no_grad;
  torch::nn::init::zeros_(adapter_up->weight);
  torch::nn::init::zeros_(adapter_up->bias);
}

at::Tensor BottleneckAdapterImpl::forward(const at::Tensor& x) {
  at::Tensor h = adapter_down->forward(x.to(adapter_down->weight.scalar_type()));
  if (non_linearity == "relu") h = at::relu(h);
  else if (non_linearity == "gelu") h = at::gelu(h);
  else if (non_linearity == "silu") h = at::silu(h);
  else h = at::tanh(h);
  const at::Tensor y = adapter_up->forward(h).to(x.scalar_type());
  return scaling == 1.0 ? y : y * scaling;
}

PrefixEncoderImpl::PrefixEncoderImpl(int64_t p, int64_t dim, int64_t layers, int64_t projection)
    : length(p), token_dim(dim), n_layers(layers) {
  TORCH_CHECK(p >= 1 && dim >= 1 && layers >= 1 && projection >= 0, "prefix encoder: bad sizes");
  const int64_t out = n_layers * 2 * token_dim;
  embedding = register_module("embedding", torch::nn::Embedding(p, projection > 0 ? token_dim : out));
  if (projection > 0)
    transform = register_module("transform", torch::nn::Sequential(torch::nn::Linear(token_dim, projection),
                                                                    torch::nn::Tanh(), torch::nn::Linear(projection, out)));
}

at::Tensor PrefixEncoderImpl::forward() {
  return projected() ? transform->forward(embedding->weight) : embedding->weight;  // (P, L * 2 * Hkv * Dh)
}

void PrefixEncoderImpl::fold() {
  if (!projected()) return;
  at::NoGradGuard no_grad;
  const at::Tensor folded = forward().detach().clone();
  const bool grad = embedding->weight.requires_grad();
  unregister_module("transform");
  transform = torch::nn::Sequential{nullptr};
  embedding = replace_module("embedding", torch::nn::Embedding(length, folded.size(1)));
  embedding->weight.set_data(folded);
  embedding->weight.set_requires_grad(grad);
}

Rotary rotary_tables(const at::Tensor& positions, int64_t head_dim, double theta) {
  TORCH_CHECK(positions.dim() == 2, "rotary_tables: positions must be (B, T)");
  TORCH_CHECK(head_dim % 2 == 0, "rotary_tables: head_dim must be even, got ", head_dim);
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(positions.device());
  // HF: 1 / base ** (arange(0, dim, 2, int64).float() / dim), all in fp32.
  const at::Tensor exponent = at::arange(0, head_dim, 2, f32.dtype(at::kLong)).to(at::kFloat) / static_cast<double>(head_dim);
  const at::Tensor inv_freq = 1.0 / at::pow(at::scalar_tensor(theta, f32), exponent);  // (Dh/2)
  const at::Tensor freqs = positions.to(at::kFloat).unsqueeze(-1) * inv_freq;          // (B, T, Dh/2)
  const at::Tensor emb = at::cat({freqs, freqs}, -1);                                   // (B, T, Dh)
  return {emb.cos(), emb.sin()};
}

RotaryTable::RotaryTable(int64_t capacity, int64_t head_dim, double theta, const at::TensorOptions& options) {
  const at::Tensor positions = at::arange(capacity, options.dtype(at::kLong)).view({1, capacity});
  const Rotary r = rotary_tables(positions, head_dim, theta);
  cos = r.cos[0];  // (capacity, Dh)
  sin = r.sin[0];
}

Rotary RotaryTable::lookup(const at::Tensor& positions) const {
  TORCH_CHECK(positions.dim() == 2, "RotaryTable: positions must be (B, T)");
  const int64_t B = positions.size(0), T = positions.size(1), Dh = cos.size(1);
  const at::Tensor flat = positions.reshape({-1});
  return {cos.index_select(0, flat).view({B, T, Dh}), sin.index_select(0, flat).view({B, T, Dh})};  // (B, T, Dh)
}

at::Tensor apply_rotary(const at::Tensor& x, const Rotary& r) {
  const int64_t half = x.size(-1) / 2;
  const at::Tensor cos = r.cos.unsqueeze(1).to(x.scalar_type());  // (B, 1, T, Dh)
  const at::Tensor sin = r.sin.unsqueeze(1).to(x.scalar_type());
  const at::Tensor rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

namespace {
at::Tensor repeat_kv(const at::Tensor& kv, int64_t n_rep) {  // (B, Hkv, S, Dh) -> (B, Hkv*n_rep, S, Dh)
  if (n_rep == 1) return kv;
  const auto s = kv.sizes();
  return kv.unsqueeze(2).expand({s[0], s[1], n_rep, s[2], s[3]}).reshape({s[0], s[1] * n_rep, s[2], s[3]});
}
void check_qkv(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "attention: q, k, v must be 4-D (B, H, T, Dh)");
  TORCH_CHECK(k.sizes() == v.sizes(), "attention: k and v shapes differ");
  TORCH_CHECK(q.size(1) % k.size(1) == 0, "attention: ", q.size(1), " query heads for ", k.size(1), " key heads");
}
}  // namespace

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask) {
  check_qkv(q, k, v);
  const int64_t n_rep = q.size(1) / k.size(1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  return at::scaled_dot_product_attention(q, repeat_kv(k, n_rep), repeat_kv(v, n_rep),
                                          mask.defined() ? std::optional<at::Tensor>(mask) : std::nullopt,
                                          /*dropout_p=*/0.0, /*is_causal=*/false, scale);
}

at::Tensor attention_grouped(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask) {
  check_qkv(q, k, v);
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), Dh = q.size(3), Hkv = k.size(1), S = k.size(2);
  const int64_t n_rep = H / Hkv;
  if (n_rep == 1) return attention(q, k, v, mask);
  const double scale = 1.0 / std::sqrt(static_cast<double>(Dh));
  const at::Tensor qg = q.reshape({B, Hkv, n_rep * T, Dh});  // query head h = j * n_rep + r serves kv head j
  std::optional<at::Tensor> m;
  if (mask.defined()) {
    TORCH_CHECK(mask.dim() == 4 && mask.size(1) == 1 && mask.size(2) == T, "attention_grouped: mask must be (B, 1, T, S)");
    m = mask.unsqueeze(2).expand({mask.size(0), 1, n_rep, T, S}).reshape({mask.size(0), 1, n_rep * T, S});  // (B, 1, n_rep*T, S)
  }
  const at::Tensor out = at::scaled_dot_product_attention(qg, k, v, m, /*dropout_p=*/0.0, /*is_causal=*/false, scale);
  return out.view({B, H, T, Dh});  // (B, Hkv, n_rep*T, Dh) -> (B, H, T, Dh)
}

at::Tensor attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask) {
  check_qkv(q, k, v);
  const int64_t n_rep = q.size(1) / k.size(1);
  const at::Tensor qd = q.to(at::kDouble), kd = repeat_kv(k, n_rep).to(at::kDouble), vd = repeat_kv(v, n_rep).to(at::kDouble);
  at::Tensor scores = at::matmul(qd, kd.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));  // (B, H, T, S)
  if (mask.defined()) scores = scores.masked_fill(mask.logical_not(), -std::numeric_limits<double>::infinity());
  return at::matmul(at::softmax(scores, -1), vd).to(q.scalar_type());
}

}  // namespace lnb::model
