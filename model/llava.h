// The LLaVA model: CLIP vision tower -> projector -> LLaMA decoder -> lm_head, with image
// features merged at image positions. Registered module names are lnbench's canonical
// tensor names (tensor_table.h): vision_model.*, projector.*, llm.*, lm_head.weight;
// model/loader.h maps every checkpoint layout onto them.
//
// Glossary: B rows, T positions, Np image positions per image, Dv vision width,
// D LLM width, V vocabulary.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "model/clip.h"
#include "model/config.h"
#include "model/llama.h"

namespace lnb::model {

// linear (LLaVA-v1, the paper) or linear_1 -> exact GELU -> linear_2 (LLaVA-1.5).
class ProjectorImpl : public torch::nn::Module {
 public:
  ProjectorImpl(ProjectorKind kind, int64_t vision_width, int64_t width);
  at::Tensor forward(const at::Tensor& features);  // (..., Dv) -> (..., D)
  ProjectorKind kind;
  torch::nn::Linear linear{nullptr}, linear_1{nullptr}, linear_2{nullptr};
};
TORCH_MODULE(Projector);

class LlavaModelImpl : public torch::nn::Module {
 public:
  explicit LlavaModelImpl(const LlavaConfig& c);

  // Frozen CLIP features, the cacheable part: pixels (B, C, S, S) -> (B, Np, Dv).
  at::Tensor vision_features(const at::Tensor& pixels);
  // Projected features: (B, Np, Dv) -> (B, Np, D).
  at::Tensor project(const at::Tensor& features) { return projector->forward(features); }

  // Token embeddings with image features written at image positions. ids (B, T) int64;
  // image_mask (B, T) bool marks image positions (their ids are only looked up, then
  // replaced); image_embeds (K, D) in row-major order of the mask's true entries — the
  // LLaVA merge (masked_scatter in HF; the -200 expansion of original LLaVA lands here too).
  at::Tensor embed(const at::Tensor& ids, const at::Tensor& image_mask, const at::Tensor& image_embeds);

  // Decoder + head: logits (B, T, V) in fp32.
  at::Tensor logits(const at::Tensor& embeds, const DecoderInputs& in, KvCache* cache);
  // Head over hidden states (B, T, D) -> (B, T, V) fp32.
  at::Tensor head(const at::Tensor& hidden);

  LlavaConfig config;
  ClipVisionTransformer vision_model{nullptr};
  Projector projector{nullptr};
  LlamaModel llm{nullptr};
  torch::nn::Linear lm_head{nullptr};  // absent when tied to embed_tokens
};
TORCH_MODULE(LlavaModel);

}  // namespace lnb::model
