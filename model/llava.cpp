// See llava.h.
#include "model/llava.h"

#include <ATen/ATen.h>

namespace lnb::model {

ProjectorImpl::ProjectorImpl(ProjectorKind k, int64_t vision_width, int64_t width) : kind(k) {
  if (k == ProjectorKind::kLinear) {
    linear = register_module("linear", torch::nn::Linear(vision_width, width));
  } else {
    linear_1 = register_module("linear_1", torch::nn::Linear(vision_width, width));
    linear_2 = register_module("linear_2", torch::nn::Linear(width, width));
  }
}

at::Tensor ProjectorImpl::forward(const at::Tensor& f) {
  if (kind == ProjectorKind::kLinear) return linear->forward(f);
  return linear_2->forward(at::gelu(linear_1->forward(f)));  // exact (erf) GELU
}

LlavaModelImpl::LlavaModelImpl(const LlavaConfig& c) : config(c) {
  if (c.has_vision) {
    vision_model = register_module("vision_model", ClipVisionTransformer(c.vision));
    projector = register_module("projector", Projector(c.projector, c.vision.hidden_size, c.text.hidden_size));
  }
  llm = register_module("llm", LlamaModel(c.text));
  if (!c.text.tie_word_embeddings)
    lm_head = register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(c.text.hidden_size, c.text.vocab_size).bias(false)));
}

at::Tensor LlavaModelImpl::vision_features(const at::Tensor& pixels) {
  TORCH_CHECK(!vision_model.is_empty(), "this model has no vision tower (plain LLaMA config)");
  return vision_model->forward(pixels);
}

at::Tensor LlavaModelImpl::embed(const at::Tensor& ids, const at::Tensor& image_mask, const at::Tensor& image_embeds) {
  TORCH_CHECK(ids.dim() == 2, "embed: ids must be (B, T)");
  at::Tensor embeds = llm->embed_tokens->forward(ids);  // (B, T, D)
  if (!image_mask.defined()) return embeds;
  TORCH_CHECK(image_mask.sizes() == ids.sizes(), "embed: image_mask must match ids");
  const int64_t n_slots = image_mask.sum().item<int64_t>();
  const int64_t n_rows = image_embeds.defined() ? image_embeds.size(0) : 0;
  TORCH_CHECK(n_slots == n_rows, "embed: ", n_slots, " image positions but ", n_rows, " image feature rows");
  if (n_slots == 0) return embeds;
  return embeds.masked_scatter(image_mask.unsqueeze(-1), image_embeds.to(embeds.scalar_type()));
}

at::Tensor LlavaModelImpl::head(const at::Tensor& hidden) {
  const at::Tensor w = lm_head.is_empty() ? llm->embed_tokens->weight : lm_head->weight;
  return at::linear(hidden, w).to(at::kFloat);  // (B, T, V)
}

at::Tensor LlavaModelImpl::logits(const at::Tensor& embeds, const DecoderInputs& in, KvCache* cache) {
  return head(llm->forward(embeds, in, cache));
}

}  // namespace lnb::model
