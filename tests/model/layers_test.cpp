// Optimized blocks against slow references (STYLE.md rule 5): SDPA attention against
// explicit fp64 softmax attention over shapes, GQA ratios and masks (copied and folded GQA); RMSNorm against its
// formula; RoPE against a per-element rotation.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "model/layers.h"
#include "model/llama.h"

using namespace lnb::model;

namespace {

double max_abs(const at::Tensor& a, const at::Tensor& b) { return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>(); }

TEST(Attention, SdpaMatchesNaiveReferenceOverShapesAndMasks) {
  at::manual_seed(0);
  struct Case { int64_t B, H, Hkv, T, S, Dh; bool mask; };
  for (const Case c : {Case{1, 4, 4, 1, 1, 8, false}, Case{2, 4, 2, 5, 5, 16, true}, Case{3, 8, 1, 1, 17, 8, true},
                       Case{2, 6, 3, 7, 12, 32, true}, Case{1, 2, 2, 33, 33, 64, false}}) {
    const at::Tensor q = at::randn({c.B, c.H, c.T, c.Dh}), k = at::randn({c.B, c.Hkv, c.S, c.Dh}), v = at::randn({c.B, c.Hkv, c.S, c.Dh});
    at::Tensor mask;
    if (c.mask) {
      const at::Tensor valid = at::rand({c.B, c.S}) > 0.3;
      mask = step_mask(valid, c.S - c.T, c.T);  // (B, 1, T, S), never an empty row
    }
    const at::Tensor want = attention_reference(q, k, v, mask);
    EXPECT_LE(max_abs(attention(q, k, v, mask), want), 2e-5)
        << "B" << c.B << " H" << c.H << " Hkv" << c.Hkv << " T" << c.T << " S" << c.S;
    EXPECT_LE(max_abs(attention_grouped(q, k, v, mask), want), 2e-5)  // GQA by folding query heads
        << "grouped B" << c.B << " H" << c.H << " Hkv" << c.Hkv << " T" << c.T << " S" << c.S;
  }
}

TEST(Attention, StepMaskHidesPaddingAndFuture) {
  const at::Tensor valid = at::tensor({0, 0, 1, 1, 1}, at::kLong).to(at::kBool).view({1, 5});
  const at::Tensor m = step_mask(valid, 0, 5)[0][0];  // (T, S)
  EXPECT_TRUE(m[0][0].item<bool>());                  // a padding query sees itself only
  EXPECT_FALSE(m[0][1].item<bool>());
  EXPECT_FALSE(m[3][1].item<bool>());                 // real queries never see padding
  EXPECT_TRUE(m[3][2].item<bool>());
  EXPECT_FALSE(m[3][4].item<bool>());                 // nor the future
  EXPECT_EQ(m.sum().item<int64_t>(), 2 + 1 + 2 + 3);
}

TEST(RMSNorm, MatchesFormulaAndKeepsDtype) {
  at::manual_seed(1);
  RMSNorm n(RMSNormOptions(16).eps(1e-6));
  n->weight.data().uniform_(0.5, 1.5);
  const at::Tensor x = at::randn({3, 4, 16});
  const at::Tensor xd = x.to(at::kDouble);
  const at::Tensor want = n->weight.to(at::kDouble) * xd / at::sqrt(xd.pow(2).mean(-1, true) + 1e-6);
  EXPECT_LE(max_abs(n->forward(x), want), 1e-5);
  EXPECT_EQ(n->forward(x.to(at::kBFloat16)).scalar_type(), at::kFloat);  // weight fp32 * bf16 -> fp32, as HF
}

TEST(Rotary, RotatesEachPairByPositionTimesFrequency) {
  const int64_t Dh = 8;
  const double theta = 500000.0;
  const at::Tensor pos = at::tensor({0, 3, 17}, at::kLong).view({1, 3});
  const Rotary r = rotary_tables(pos, Dh, theta);
  const at::Tensor x = at::randn({1, 1, 3, Dh});
  const at::Tensor y = apply_rotary(x, r);
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t i = 0; i < Dh / 2; ++i) {
      const double angle = pos[0][t].item<double>() / std::pow(theta, 2.0 * i / Dh);
      const double a = x[0][0][t][i].item<double>(), b = x[0][0][t][i + Dh / 2].item<double>();
      EXPECT_NEAR(y[0][0][t][i].item<double>(), a * std::cos(angle) - b * std::sin(angle), 1e-4);
      EXPECT_NEAR(y[0][0][t][i + Dh / 2].item<double>(), b * std::cos(angle) + a * std::sin(angle), 1e-4);
    }
}

}  // namespace
