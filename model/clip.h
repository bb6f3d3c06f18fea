// CLIP ViT vision tower as LLaVA uses it: bias-free patch convolution, class and position
// embeddings, pre-LN encoder layers with QuickGELU, and the feature layer LLaVA selects
// (hidden_states[feature_layer], CLS dropped). post_layernorm and the layers after the
// feature layer are registered (checkpoints hold them) but never run.
//
// Glossary: B images, C channels, S image side (px), P patch side, Np = (S/P)^2 patches,
// Dv vision width, Hv heads, Dh = Dv/Hv, Iv MLP width.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "model/config.h"

namespace lnb::model {

class ClipEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit ClipEmbeddingsImpl(const ClipVisionConfig& c);
  at::Tensor forward(const at::Tensor& pixels);  // (B, C, S, S) -> (B, 1 + Np, Dv)
  ClipVisionConfig config;
  torch::nn::Conv2d patch_embedding{nullptr};
  at::Tensor class_embedding;  // (Dv)
  torch::nn::Embedding position_embedding{nullptr};
};
TORCH_MODULE(ClipEmbeddings);

class ClipAttentionImpl : public torch::nn::Module {
 public:
  explicit ClipAttentionImpl(const ClipVisionConfig& c);
  at::Tensor forward(const at::Tensor& x);  // (B, N, Dv) -> (B, N, Dv)
  int64_t n_heads;
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};
};
TORCH_MODULE(ClipAttention);

class ClipMlpImpl : public torch::nn::Module {
 public:
  explicit ClipMlpImpl(const ClipVisionConfig& c);
  at::Tensor forward(const at::Tensor& x);  // fc2(quick_gelu(fc1(x)))
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(ClipMlp);

class ClipEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit ClipEncoderLayerImpl(const ClipVisionConfig& c);
  at::Tensor forward(const at::Tensor& x);  // pre-LN residual block, (B, N, Dv)
  ClipAttention self_attn{nullptr};
  torch::nn::LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
  ClipMlp mlp{nullptr};
};
TORCH_MODULE(ClipEncoderLayer);

class ClipVisionTransformerImpl : public torch::nn::Module {
 public:
  explicit ClipVisionTransformerImpl(const ClipVisionConfig& c);
  // LLaVA's image features: hidden_states[feature_layer][:, 1:], (B, C, S, S) -> (B, Np, Dv).
  at::Tensor forward(const at::Tensor& pixels);
  // hidden_states[index] with HF's numbering (0 = after pre_layrnorm), CLS kept: (B, 1+Np, Dv).
  at::Tensor hidden_state(const at::Tensor& pixels, int64_t index);
  ClipVisionConfig config;
  ClipEmbeddings embeddings{nullptr};
  torch::nn::LayerNorm pre_layrnorm{nullptr};  // (sic), HF's name
  std::shared_ptr<torch::nn::Module> encoder;  // holds `layers` (HF: encoder.layers.N)
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm post_layernorm{nullptr};
};
TORCH_MODULE(ClipVisionTransformer);

}  // namespace lnb::model
