// Each strategy trains exactly the tensors specs/model.md names.
#include <gtest/gtest.h>

#include "training/strategy.h"

namespace lnb::training {
namespace {

const char* const kNames[] = {
    "vision_model.encoder.layers.0.self_attn.q_proj.weight",
    "vision_model.encoder.layers.0.layer_norm1.weight",
    "projector.linear_1.weight",
    "llm.embed_tokens.weight",
    "llm.layers.0.self_attn.q_proj.weight",
    "llm.layers.0.self_attn.k_proj.weight",
    "llm.layers.0.self_attn.v_proj.weight",
    "llm.layers.0.self_attn.o_proj.weight",
    "llm.layers.0.mlp.gate_proj.weight",
    "llm.layers.0.mlp.down_proj.weight",
    "llm.layers.0.input_layernorm.weight",
    "llm.layers.0.post_attention_layernorm.weight",
    "llm.norm.weight",
    "lm_head.weight",
};

std::string trained(const std::string& strategy) {
  std::string out;
  for (const char* n : kNames) out += trains(find_strategy(strategy), n) ? '1' : '0';
  return out;
}

TEST(Strategy, TrainsExactlyWhatModelMdNames) {
  //                         vq vn pj em q  k  v  o  g  d  in pn nm hd
  EXPECT_EQ(trained("full"),      "00111111111111");
  EXPECT_EQ(trained("lora"),      "00110000000001");  // base linears frozen; adapters injected
  EXPECT_EQ(trained("attn-qv"),   "00111010000001");
  EXPECT_EQ(trained("attn-mlp"),  "00110000110001");
  EXPECT_EQ(trained("ln"),        "00110000001111");
  EXPECT_EQ(trained("ln-simple"), "00000000001110");
  EXPECT_EQ(trained("connector"), "00100000000000");
}

TEST(Strategy, VisionTowerNeverTrains) {
  for (const Strategy& s : builtin_strategies()) EXPECT_FALSE(trains(s, "vision_model.post_layernorm.weight")) << s.name;
}

TEST(Strategy, UnknownNameListsTheChoices) {
  try {
    find_strategy("bitfit");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("ln-simple"), std::string::npos);
  }
}

}  // namespace
}  // namespace lnb::training
