// Exact parameter arithmetic of specs/model.md ("Parameter arithmetic") and the paper's
// percentages, from configs alone.
#include <gtest/gtest.h>

#include "model/config.h"
#include "model/tensor_table.h"
#include "training/accounting.h"

namespace lnb::training {
namespace {

int64_t sum_prefix(const model::LlavaConfig& c, const std::string& prefix) {
  int64_t n = 0;
  for (const auto& t : model::llava_tensors(c))
    if (t.name.rfind(prefix, 0) == 0) n += t.numel();
  return n;
}

TEST(Accounting, BuildingBlocksMatchTheSpecArithmetic) {
  const auto p7 = model::preset("paper-llama2-7b"), p13 = model::preset("paper-llama2-13b");
  // LLaMA: 2*V*H + L*(4H^2 + 3HI + 2H) + H.
  EXPECT_EQ(sum_prefix(p7, "llm.") + sum_prefix(p7, "lm_head."), 6'738'415'616);
  EXPECT_EQ(sum_prefix(p13, "llm.") + sum_prefix(p13, "lm_head."), 13'015'864'320);
  // CLIP ViT-L/14: 303,179,776 at 224 px, 303,507,456 at 336 px.
  EXPECT_EQ(sum_prefix(p7, "vision_model."), 303'179'776);
  EXPECT_EQ(sum_prefix(model::preset("llava-1.5-7b"), "vision_model."), 303'507'456);
  // Connectors: linear 1024->4096 4,198,400 (->5120 5,248,000); mlp2x_gelu 20,979,712 (13B 31,467,520).
  EXPECT_EQ(sum_prefix(p7, "projector."), 4'198'400);
  EXPECT_EQ(sum_prefix(p13, "projector."), 5'248'000);
  EXPECT_EQ(sum_prefix(model::preset("llava-1.5-7b"), "projector."), 20'979'712);
  EXPECT_EQ(sum_prefix(model::preset("llava-1.5-13b"), "projector."), 31'467'520);
}

TEST(Accounting, PaperPercentagesForLnAndLnSimple) {
  // Paper Table 2 (7B): LN 3.78 % trainable, LN-simple 0.004 %.
  const auto p7 = model::preset("paper-llama2-7b");
  const ParamCounts ln = count_params(p7, find_strategy("ln"));
  const ParamCounts simple = count_params(p7, find_strategy("ln-simple"));
  EXPECT_EQ(ln.base_total, 6'738'415'616 + 303'179'776 + 4'198'400);
  // norms 2*H*L + H = 266,240; + connector 4,198,400 + embed and head 2 * 131,072,000.
  EXPECT_EQ(simple.trainable, 266'240);
  EXPECT_EQ(ln.trainable, 266'240 + 4'198'400 + 2 * 131'072'000);
  EXPECT_NEAR(ln.trainable_pct(), 3.78, 0.005);
  EXPECT_NEAR(simple.trainable_pct(), 0.004, 0.0005);
}

TEST(Accounting, LoraAddsRankTimesInPlusOutOnTheSevenLinears) {
  // 7B, all seven linears: r * 78,080 per layer; plus connector, embed_tokens, lm_head.
  const auto p7 = model::preset("paper-llama2-7b");
  LoraSpec r64;
  const ParamCounts c = count_params(p7, find_strategy("lora"), r64);
  EXPECT_EQ(c.lora, 64LL * 78'080 * 32);
  EXPECT_EQ(c.trainable, c.lora + 4'198'400 + 2 * 131'072'000);
  EXPECT_LT(count_params(p7, find_strategy("ln")).trainable, c.trainable);  // the paper's claim, by construction
}

TEST(Accounting, AdaptersPrefixesAndBitfitFromTheConfigAlone) {
  const auto p7 = model::preset("paper-llama2-7b");  // H 4096, 32 layers, 32 kv heads of 128, linear connector
  const int64_t base_trained = 4'198'400 + 2 * 131'072'000;  // connector, embed_tokens, lm_head
  // Pfeiffer, reduction 16: bottleneck 256; down 4096*256 + 256, up 256*4096 + 4096 per layer.
  const int64_t per_adapter = 4096 * 256 + 256 + 256 * 4096 + 4096;
  const ParamCounts pf = count_params(p7, find_strategy("adapter"));
  EXPECT_EQ(pf.adapter, 32 * per_adapter);
  EXPECT_EQ(pf.trainable, pf.adapter + base_trained);
  EXPECT_EQ(pf.total(), pf.base_total + pf.adapter);
  AdapterSpec houlsby;
  houlsby.placement = "houlsby";
  houlsby.reduction = 64;
  EXPECT_EQ(count_params(p7, find_strategy("adapter"), {}, houlsby).adapter, 2 * 32 * (2 * 4096 * 64 + 64 + 4096));
  // Prefix, P = 30: every layer's keys and values, 30 * 32 * 2 * 4096.
  const ParamCounts px = count_params(p7, find_strategy("prefix"));
  EXPECT_EQ(px.prefix, 30LL * 32 * 2 * 4096);
  EXPECT_EQ(px.trainable, px.prefix + base_trained);
  PrefixSpec mlp;
  mlp.length = 10;
  mlp.projection = 512;  // embedding (10, 4096) + Linear(4096, 512) + Linear(512, 32*2*4096)
  EXPECT_EQ(count_params(p7, find_strategy("prefix"), {}, {}, mlp).prefix,
            10 * 4096 + (4096 * 512 + 512) + (512 * 262'144 + 262'144));
  // MAM: the prefix plus one parallel adapter per layer; + LN adds exactly ln-simple's norms.
  const ParamCounts mam = count_params(p7, find_strategy("mam"));
  EXPECT_EQ(mam.trainable, px.prefix + pf.adapter + base_trained);
  EXPECT_EQ(count_params(p7, find_strategy("prefix+ln")).trainable, px.trainable + 266'240);
  EXPECT_EQ(count_params(p7, find_strategy("adapter+ln")).trainable, pf.trainable + 266'240);
  // BitFit: LLaMA has no biases, the linear connector one (4096).
  EXPECT_EQ(count_params(p7, find_strategy("bitfit")).trainable, 4096);
  EXPECT_EQ(count_params(model::preset("llava-1.5-7b"), find_strategy("bitfit")).trainable, 2 * 4096);
  // The module ablation: one norm per layer each, no final norm.
  EXPECT_EQ(count_params(p7, find_strategy("ln-attn")).trainable, 32 * 4096 + base_trained);
  EXPECT_EQ(count_params(p7, find_strategy("ln-ffn")).trainable, 32 * 4096 + base_trained);
}

TEST(Accounting, SpecsThatDoNotFitTheModelNameTheOption) {
  const auto p7 = model::preset("paper-llama2-7b");
  auto error = [&](const std::string& strategy, AdapterSpec a, PrefixSpec p) {
    try {
      check_specs(p7, find_strategy(strategy), a, p);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  AdapterSpec a;
  a.reduction = 48;
  EXPECT_EQ(error("adapter", a, {}), "--adapter-reduction: expected a factor that divides the hidden size 4096, got 48");
  EXPECT_EQ(error("prefix", a, {}), "no error");  // prefix uses no adapter
  a = {};
  a.non_linearity = "swish";
  EXPECT_NE(error("adapter+ln", a, {}).find("--adapter-non-linearity"), std::string::npos);
  a = {};
  a.placement = "middle";
  EXPECT_NE(error("adapter", a, {}).find("--adapter-placement"), std::string::npos);
  EXPECT_EQ(error("mam", a, {}), "no error");  // mam's placement is its own
  PrefixSpec p;
  p.length = 4096;
  EXPECT_EQ(error("mam", {}, p), "--prefix-length: expected 1 to 4095 virtual tokens (the context is 4096), got 4096");
  p.length = 0;
  EXPECT_NE(error("prefix", {}, p).find("--prefix-length"), std::string::npos);
}

TEST(Accounting, HfConfigWithGqaAndTiedHead) {
  const auto c = model::parse_config_json(R"({"model_type": "llava",
    "text_config": {"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
                    "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2,
                    "rope_theta": 500000.0, "tie_word_embeddings": true},
    "vision_config": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                      "image_size": 28, "patch_size": 14}})", "tiny/config.json");
  EXPECT_EQ(c.text.n_kv_heads, 2);
  EXPECT_EQ(c.text.rope_theta, 500000.0);
  // k_proj with GQA: (n_kv_heads * head_dim, H) = (2 * 8, 64).
  bool seen = false;
  for (const auto& t : model::llava_tensors(c)) {
    if (t.name != "llm.layers.0.self_attn.k_proj.weight") continue;
    EXPECT_EQ(t.shape, (std::vector<int64_t>{16, 64}));
    seen = true;
  }
  EXPECT_TRUE(seen);
  EXPECT_EQ(sum_prefix(c, "lm_head."), 0);  // tied
}

TEST(Accounting, BadConfigsNameTheField) {
  try {
    model::parse_config_json(R"({"model_type": "llava", "text_config": {"hidden_size": -4}})", "m/config.json");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("m/config.json: field 'text_config.hidden_size': expected an integer from 1 to"),
              std::string::npos) << e.what();
  }
  EXPECT_THROW(model::parse_config_json(R"({"model_type": "gpt2"})", "x"), std::runtime_error);
  EXPECT_THROW(model::preset("llava-2"), std::invalid_argument);
}

}  // namespace
}  // namespace lnb::training
