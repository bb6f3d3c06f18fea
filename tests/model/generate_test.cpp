// Generation against slow references (STYLE.md rule 5) on a random tiny LLaVA built here:
// KV-cache decoding equals full recomputation, batched greedy equals batch-1 token for
// token over mixed prompt lengths, images and batch sizes 1-8, and the two image-merge
// forms (expanded image tokens, one -200 slot) give the same logits.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "model/generate.h"
#include "model/llava.h"
#include "tiny_llava.h"

using namespace lnb::model;

namespace {

using namespace lnb::model::test;

TEST(Generate, KvCacheMatchesFullRecompute) {
  Fixture f;
  Generator gen(f.model, f.tok, 400, 401);
  GenerationOptions opt;
  opt.max_new_tokens = 10;
  opt.stop_at_eos = false;
  opt.keep_logits = true;
  GenerationRequest q{f.tok.encode_with_image("USER: <image>\nWhat shape? ASSISTANT:"), features(f.model, 5)};
  const GenerationResult r = gen.generate({q}, opt)[0];
  ASSERT_EQ(r.tokens.size(), 10u);
  // Full sequence without a cache: prompt + generated tokens, causal mask, positions 0..n-1.
  std::vector<int64_t> all = expand_image_slots(q.prompt, 4, 400, 401).ids;
  const int64_t T = static_cast<int64_t>(all.size());
  all.insert(all.end(), r.tokens.begin(), r.tokens.end() - 1);
  const int64_t n = static_cast<int64_t>(all.size());
  torch::NoGradGuard ng;
  const at::Tensor ids = at::tensor(all, at::kLong).view({1, n});
  const at::Tensor embeds = f.model->embed(ids, ids == 400, f.model->project(q.image_features).reshape({-1, 32}));
  const at::Tensor full = f.model->logits(embeds, {at::arange(n, at::kLong).view({1, n}), {}}, nullptr)[0];  // (n, V)
  EXPECT_LE((full.narrow(0, 0, T) - r.prompt_logits).abs().max().item<double>(), 1e-5);
  EXPECT_LE((full.narrow(0, T - 1, 10) - r.step_logits).abs().max().item<double>(), 1e-5);
}

void expect_batch_invariant(Fixture& f, const GenerationOptions& opt) {
  const auto reqs = mixed_requests(f);
  Generator gen(f.model, f.tok, 400, 401);
  std::vector<GenerationResult> single;
  for (const auto& r : reqs) single.push_back(gen.generate({r}, opt)[0]);
  for (size_t B = 2; B <= reqs.size(); ++B) {
    for (size_t start = 0; start + B <= reqs.size(); start += B) {  // several compositions per size
      const std::vector<GenerationRequest> batch(reqs.begin() + start, reqs.begin() + start + B);
      const auto got = gen.generate(batch, opt);
      for (size_t i = 0; i < B; ++i) {
        EXPECT_EQ(got[i].tokens, single[start + i].tokens) << "batch " << B << " row " << i;
        EXPECT_EQ(got[i].stop_reason, single[start + i].stop_reason);
        EXPECT_EQ(got[i].text, single[start + i].text);
      }
    }
  }
}

TEST(Generate, BatchedEqualsBatchOneForEveryBatchSize) {
  Fixture f;
  GenerationOptions opt;
  opt.max_new_tokens = 12;
  opt.stop_at_eos = false;
  expect_batch_invariant(f, opt);
}

TEST(Generate, BatchedEqualsBatchOneWhenRowsFinishAtDifferentSteps) {
  Fixture f;
  // EOS = a token some rows produce early, so rows leave the batch at different steps.
  Generator gen(f.model, f.tok, 400, 401);
  GenerationOptions opt;
  opt.max_new_tokens = 12;
  opt.eos_ids = {most_common_token(gen, mixed_requests(f))};
  int eos_rows = 0;
  for (const auto& r : mixed_requests(f)) eos_rows += gen.generate({r}, opt)[0].stop_reason == "eos";
  EXPECT_GE(eos_rows, 2);
  expect_batch_invariant(f, opt);
}

TEST(Generate, StopStringEndsTheRowAndIsCut) {
  Fixture f;
  Generator gen(f.model, f.tok, 400, 401);
  GenerationOptions opt;
  opt.max_new_tokens = 16;
  opt.stop_at_eos = false;
  GenerationRequest q{f.tok.encode_with_image("a red circle"), {}};
  const GenerationResult full = gen.generate({q}, opt)[0];
  // A stop string = the text of generated tokens 3..4: generation ends once it appears.
  const std::string stop = f.tok.decode({full.tokens[3], full.tokens[4]});
  ASSERT_FALSE(stop.empty());
  opt.stop = {stop};
  const GenerationResult r = gen.generate({q}, opt)[0];
  EXPECT_EQ(r.stop_reason, "stop");
  EXPECT_LE(r.tokens.size(), 5u);
  EXPECT_EQ(r.text.find(stop), std::string::npos);
}

TEST(Generate, ExpandedImageTokensEqualThePlaceholderForm) {
  Fixture f;
  Generator gen(f.model, f.tok, 400, 401);
  GenerationOptions opt;
  opt.max_new_tokens = 4;
  opt.stop_at_eos = false;
  opt.keep_logits = true;
  const at::Tensor feats = features(f.model, 9);
  GenerationRequest slot{f.tok.encode_with_image("USER: <image>\nhi ASSISTANT:"), feats};
  GenerationRequest expanded{expand_image_slots(slot.prompt, 4, 400, 401).ids, feats};
  const auto a = gen.generate({slot}, opt)[0], b = gen.generate({expanded}, opt)[0];
  EXPECT_TRUE(at::equal(a.prompt_logits, b.prompt_logits));
  EXPECT_EQ(a.tokens, b.tokens);
}

TEST(Generate, FeatureCountMismatchIsRejected) {
  Fixture f;
  Generator gen(f.model, f.tok, 400, 401);
  GenerationRequest q{f.tok.encode_with_image("<image> and <image>"), features(f.model, 1)};  // 2 slots, 1 image
  EXPECT_THROW(gen.generate({q}, {}), c10::Error);
}

}  // namespace
