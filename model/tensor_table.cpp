// See tensor_table.h. Shapes as HF stores them: Linear weights are (out, in).
#include "model/tensor_table.h"

namespace lnb::model {

std::vector<TensorSpec> llava_tensors(const LlavaConfig& c) {
  std::vector<TensorSpec> t;
  auto add = [&t](std::string name, std::vector<int64_t> shape) { t.push_back({std::move(name), std::move(shape)}); };
  if (c.has_vision) {
    const ClipVisionConfig& v = c.vision;
    const int64_t D = v.hidden_size, I = v.intermediate_size, P = v.patch_size;
    add("vision_model.embeddings.patch_embedding.weight", {D, v.n_channels, P, P});  // bias-free conv
    add("vision_model.embeddings.class_embedding", {D});
    add("vision_model.embeddings.position_embedding.weight", {v.n_patches() + 1, D});
    add("vision_model.pre_layrnorm.weight", {D});
    add("vision_model.pre_layrnorm.bias", {D});
    for (int64_t l = 0; l < v.n_layers; ++l) {
      const std::string p = "vision_model.encoder.layers." + std::to_string(l) + ".";
      for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
        add(p + "self_attn." + proj + ".weight", {D, D});
        add(p + "self_attn." + proj + ".bias", {D});
      }
      for (const char* ln : {"layer_norm1", "layer_norm2"}) {
        add(p + ln + ".weight", {D});
        add(p + ln + ".bias", {D});
      }
      add(p + "mlp.fc1.weight", {I, D});
      add(p + "mlp.fc1.bias", {I});
      add(p + "mlp.fc2.weight", {D, I});
      add(p + "mlp.fc2.bias", {D});
    }
    add("vision_model.post_layernorm.weight", {D});
    add("vision_model.post_layernorm.bias", {D});
    const int64_t H = c.text.hidden_size;
    if (c.projector == ProjectorKind::kLinear) {
      add("projector.linear.weight", {H, D});
      add("projector.linear.bias", {H});
    } else {
      add("projector.linear_1.weight", {H, D});
      add("projector.linear_1.bias", {H});
      add("projector.linear_2.weight", {H, H});
      add("projector.linear_2.bias", {H});
    }
  }
  const LlamaConfig& m = c.text;
  const int64_t H = m.hidden_size, I = m.intermediate_size, hd = m.head_dim();
  add("llm.embed_tokens.weight", {m.vocab_size, H});
  for (int64_t l = 0; l < m.n_layers; ++l) {
    const std::string p = "llm.layers." + std::to_string(l) + ".";
    add(p + "self_attn.q_proj.weight", {m.n_heads * hd, H});
    add(p + "self_attn.k_proj.weight", {m.n_kv_heads * hd, H});
    add(p + "self_attn.v_proj.weight", {m.n_kv_heads * hd, H});
    add(p + "self_attn.o_proj.weight", {H, m.n_heads * hd});
    add(p + "mlp.gate_proj.weight", {I, H});
    add(p + "mlp.up_proj.weight", {I, H});
    add(p + "mlp.down_proj.weight", {H, I});
    add(p + "input_layernorm.weight", {H});
    add(p + "post_attention_layernorm.weight", {H});
  }
  add("llm.norm.weight", {H});
  if (!m.tie_word_embeddings) add("lm_head.weight", {m.vocab_size, H});
  return t;
}

}  // namespace lnb::model
