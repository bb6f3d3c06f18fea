// See clip.h. Follows transformers' modeling_clip.py (eager and SDPA paths agree).
#include "model/clip.h"

#include <ATen/ATen.h>

#include "model/layers.h"

namespace lnb::model {

namespace {
torch::nn::LayerNorm layer_norm(const ClipVisionConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}
}  // namespace

ClipEmbeddingsImpl::ClipEmbeddingsImpl(const ClipVisionConfig& c) : config(c) {
  patch_embedding = register_module(
      "patch_embedding",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(c.n_channels, c.hidden_size, c.patch_size).stride(c.patch_size).bias(false)));
  class_embedding = register_parameter("class_embedding", at::zeros({c.hidden_size}));
  position_embedding = register_module("position_embedding", torch::nn::Embedding(c.n_patches() + 1, c.hidden_size));
}

at::Tensor ClipEmbeddingsImpl::forward(const at::Tensor& pixels) {
  TORCH_CHECK(pixels.dim() == 4 && pixels.size(1) == config.n_channels && pixels.size(2) == config.image_size &&
                  pixels.size(3) == config.image_size,
              "CLIP: pixels must be (B, ", config.n_channels, ", ", config.image_size, ", ", config.image_size, "), got ",
              pixels.sizes());
  const int64_t B = pixels.size(0);
  const at::Tensor patches = patch_embedding->forward(pixels.to(patch_embedding->weight.scalar_type()));  // (B, Dv, S/P, S/P)
  const at::Tensor flat = patches.flatten(2).transpose(1, 2);                                   // (B, Np, Dv)
  const at::Tensor cls = class_embedding.view({1, 1, -1}).expand({B, 1, config.hidden_size});  // (B, 1, Dv)
  return at::cat({cls, flat}, 1) + position_embedding->weight.unsqueeze(0);                     // (B, 1 + Np, Dv)
}

ClipAttentionImpl::ClipAttentionImpl(const ClipVisionConfig& c) : n_heads(c.n_heads) {
  TORCH_CHECK(c.hidden_size % c.n_heads == 0, "CLIP: hidden_size ", c.hidden_size, " not divisible by heads ", c.n_heads);
  q_proj = register_module("q_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
  k_proj = register_module("k_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
  v_proj = register_module("v_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
  out_proj = register_module("out_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

at::Tensor ClipAttentionImpl::forward(const at::Tensor& x) {
  const int64_t B = x.size(0), N = x.size(1), D = x.size(2), Dh = D / n_heads;
  auto heads = [&](const at::Tensor& t) { return t.view({B, N, n_heads, Dh}).transpose(1, 2); };  // (B, Hv, N, Dh)
  const at::Tensor out = attention(heads(q_proj->forward(x)), heads(k_proj->forward(x)), heads(v_proj->forward(x)), {});
  return out_proj->forward(out.transpose(1, 2).reshape({B, N, D}));  // (B, N, Dv)
}

ClipMlpImpl::ClipMlpImpl(const ClipVisionConfig& c) {
  fc1 = register_module("fc1", torch::nn::Linear(c.hidden_size, c.intermediate_size));
  fc2 = register_module("fc2", torch::nn::Linear(c.intermediate_size, c.hidden_size));
}

at::Tensor ClipMlpImpl::forward(const at::Tensor& x) {
  const at::Tensor h = fc1->forward(x);
  return fc2->forward(h * at::sigmoid(1.702 * h));  // QuickGELU
}

ClipEncoderLayerImpl::ClipEncoderLayerImpl(const ClipVisionConfig& c) {
  self_attn = register_module("self_attn", ClipAttention(c));
  layer_norm1 = register_module("layer_norm1", layer_norm(c));
  mlp = register_module("mlp", ClipMlp(c));
  layer_norm2 = register_module("layer_norm2", layer_norm(c));
}

at::Tensor ClipEncoderLayerImpl::forward(const at::Tensor& x) {
  const at::Tensor h = x + self_attn->forward(layer_norm1->forward(x));
  return h + mlp->forward(layer_norm2->forward(h));
}

ClipVisionTransformerImpl::ClipVisionTransformerImpl(const ClipVisionConfig& c) : config(c) {
  embeddings = register_module("embeddings", ClipEmbeddings(c));
  pre_layrnorm = register_module("pre_layrnorm", layer_norm(c));
  layers = torch::nn::ModuleList();
  for (int64_t l = 0; l < c.n_layers; ++l) layers->push_back(ClipEncoderLayer(c));
  encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  encoder->register_module("layers", layers);
  post_layernorm = register_module("post_layernorm", layer_norm(c));
}

at::Tensor ClipVisionTransformerImpl::hidden_state(const at::Tensor& pixels, int64_t index) {
  const int64_t n = config.n_layers;
  if (index < 0) index += n + 1;  // hidden_states has n + 1 entries
  TORCH_CHECK(index >= 0 && index <= n, "CLIP: feature layer ", index, " outside hidden_states[0..", n, "]");
  at::Tensor h = pre_layrnorm->forward(embeddings->forward(pixels));  // hidden_states[0]
  for (int64_t l = 0; l < index; ++l) h = layers[l]->as<ClipEncoderLayer>()->forward(h);
  return h;
}

at::Tensor ClipVisionTransformerImpl::forward(const at::Tensor& pixels) {
  return hidden_state(pixels, config.feature_layer).narrow(1, 1, config.n_patches());  // (B, Np, Dv), CLS dropped
}

}  // namespace lnb::model
