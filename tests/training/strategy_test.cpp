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
    "projector.linear_1.bias",
    "llm.layers.0.self_attn.q_proj.lora_A.weight",
    "llm.layers.0.mlp_adapter.adapter_down.weight",
    "llm.layers.0.attn_adapter.adapter_up.bias",
    "llm.prefix.embedding.weight",
};

std::string trained(const std::string& strategy) {
  std::string out;
  for (const char* n : kNames) out += trains(find_strategy(strategy), n) ? '1' : '0';
  return out;
}

TEST(Strategy, TrainsExactlyWhatModelMdNames) {
  // The columns: vision q, vision norm, projector weight, embed, q k v o gate down, input norm,
  // post-attention norm, final norm, head, projector bias, then the injected modules: a
  // LoRA factor, an MLP adapter, a Houlsby attention adapter, the prefix encoder.
  //                           vq vn pj em q  k  v  o  g  d  in pn nm hd pb lo ad aa px
  EXPECT_EQ(trained("full"),       "0011111111111110000");
  EXPECT_EQ(trained("lora"),       "0011000000000111000");  // base linears frozen; adapters injected
  EXPECT_EQ(trained("attn-qv"),    "0011101000000110000");
  EXPECT_EQ(trained("attn-mlp"),   "0011000011000110000");
  EXPECT_EQ(trained("ln"),         "0011000000111110000");
  EXPECT_EQ(trained("ln-simple"),  "0000000000111000000");
  EXPECT_EQ(trained("connector"),  "0010000000000010000");
  EXPECT_EQ(trained("ln-attn"),    "0011000000100110000");
  EXPECT_EQ(trained("ln-ffn"),     "0011000000010110000");
  EXPECT_EQ(trained("bitfit"),     "0000000000000010000");
  EXPECT_EQ(trained("adapter"),    "0011000000000110110");
  EXPECT_EQ(trained("prefix"),     "0011000000000110001");
  EXPECT_EQ(trained("mam"),        "0011000000000110111");
  EXPECT_EQ(trained("adapter+ln"), "0011000000111110110");
  EXPECT_EQ(trained("prefix+ln"),  "0011000000111110001");
}

TEST(Strategy, CombinationsAreUnionsAndRefuseRepeatsAndClashingAdapters) {
  EXPECT_EQ(trained("bitfit+ln-simple"), "0000000000111010000");
  EXPECT_EQ(trained("ln-attn+ln-ffn"), "0011000000110110000");
  EXPECT_EQ(&find_strategy("bitfit+ln-simple"), &find_strategy("bitfit+ln-simple"));  // resolved once
  const Strategy& built = find_strategy("prefix+ln");
  EXPECT_TRUE(built.prefix && built.input_norms && built.mlp_norms && built.final_norm && built.connector);
  EXPECT_FALSE(built.adapter);
  EXPECT_EQ(find_strategy("mam").adapter_placement, "parallel");
  EXPECT_EQ(find_strategy("mam").adapter_scaling, 4.0);
  auto error = [](const std::string& name) {
    try {
      find_strategy(name);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("ln+prefix+ln").find("names 'ln' twice"), std::string::npos) << error("ln+prefix+ln");
  EXPECT_NE(error("prefix+nope").find("unknown part 'nope'"), std::string::npos) << error("prefix+nope");
  EXPECT_NE(error("adapter+").find("unknown part ''"), std::string::npos) << error("adapter+");
  EXPECT_NE(error("mam+adapter").find("different placements"), std::string::npos) << error("mam+adapter");
  EXPECT_NE(error("lora-x").find("expected one of: full, lora"), std::string::npos) << error("lora-x");
}

TEST(Strategy, MamsAdapterIsParallelAtScalingFourWhateverTheSpec) {
  AdapterSpec spec;
  spec.placement = "houlsby";
  spec.scaling = 2.0;
  EXPECT_EQ(adapter_placement(find_strategy("mam"), spec), "parallel");
  EXPECT_EQ(adapter_scaling(find_strategy("mam"), spec), 4.0);
  EXPECT_EQ(adapter_placement(find_strategy("adapter"), spec), "houlsby");
  EXPECT_EQ(adapter_scaling(find_strategy("adapter+ln"), spec), 2.0);
}

TEST(Strategy, VisionTowerNeverTrains) {
  for (const Strategy& s : builtin_strategies()) EXPECT_FALSE(trains(s, "vision_model.post_layernorm.weight")) << s.name;
}

TEST(Strategy, UnknownNameListsTheChoices) {
  try {
    find_strategy("bitfat");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("ln-simple"), std::string::npos);
  }
}

}  // namespace
}  // namespace lnb::training
