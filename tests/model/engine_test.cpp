// The evaluation engine against its slow twins (STYLE.md rule 5), on the random tiny
// LLaVA of tiny_llava.h:
//  - the static-shape decoder (no prefix) gives the reference decoder's tokens and its
//    logits within 1e-5, at batch sizes 1-8, with rows finishing at different steps;
//  - prefix sharing (a two-level plan, a PrefixStore) gives every request the tokens it
//    gets unshared at batch 1, over mixed prompt lengths, batch sizes 1-16, images with
//    1-8 questions, text-only requests mixed in, and LoRA and LN deltas swapped in; the
//    store counts what it computed and reused and ends empty;
//  - the plan itself: roots, groups, image identity, the one-own-position rule, and the
//    memory budget;
//  - the vision tower over a batch of images equals one image at a time.
#include <map>
#include <random>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "model/generate.h"
#include "model/prefix_cache.h"
#include "tiny_llava.h"

using namespace lnb::model;
using namespace lnb::model::test;

namespace {

constexpr double kLogitTol = 1e-5;

GenerationOptions no_eos(int64_t max_new_tokens) {
  GenerationOptions o;
  o.max_new_tokens = max_new_tokens;
  o.stop_at_eos = false;
  return o;
}

void expect_same(const GenerationResult& got, const GenerationResult& want, const std::string& where) {
  EXPECT_EQ(got.tokens, want.tokens) << where;
  EXPECT_EQ(got.stop_reason, want.stop_reason) << where;
  EXPECT_EQ(got.text, want.text) << where;
  EXPECT_EQ(got.prompt_tokens, want.prompt_tokens) << where;
  if (want.step_logits.defined()) {
    ASSERT_TRUE(got.step_logits.defined()) << where;
    ASSERT_EQ(got.step_logits.sizes(), want.step_logits.sizes()) << where;
    EXPECT_LE((got.step_logits - want.step_logits).abs().max().item<double>(), kLogitTol) << where;
  }
}

TEST(Engine, StaticDecoderEqualsTheReferenceDecoder) {
  Fixture f;
  Generator gen(f.model, f.tok, 400, 401);
  const auto reqs = mixed_requests(f);
  for (const bool eos : {false, true}) {
    GenerationOptions opt;
    opt.max_new_tokens = 10;
    opt.keep_logits = true;
    opt.stop_at_eos = eos;
    if (eos) {  // an EOS some rows produce early, so rows finish at different steps
      std::map<int64_t, int> counts;
      for (const auto& r : reqs) {
        const GenerationResult res = gen.generate_reference({r}, no_eos(10))[0];
        for (int64_t t : res.tokens) ++counts[t];
      }
      opt.eos_ids = {std::max_element(counts.begin(), counts.end(), [](auto& a, auto& b) { return a.second < b.second; })->first};
    }
    for (size_t B = 1; B <= reqs.size(); B *= 2) {
      for (size_t start = 0; start + B <= reqs.size(); start += B) {
        const std::vector<GenerationRequest> batch(reqs.begin() + start, reqs.begin() + start + B);
        const auto want = gen.generate_reference(batch, opt);
        GenerationStats stats;
        const auto got = gen.generate(batch, opt, &stats);
        for (size_t i = 0; i < B; ++i) {
          expect_same(got[i], want[i], "eos " + std::to_string(eos) + " batch " + std::to_string(B) + " row " + std::to_string(i));
          const int64_t n = got[i].prompt_tokens;
          ASSERT_EQ(got[i].prompt_logits.size(0), n);
          EXPECT_LE((got[i].prompt_logits - want[i].prompt_logits).abs().max().item<double>(), kLogitTol);
        }
        EXPECT_EQ(stats.prefix_reused, 0);
        if (!eos) {
          EXPECT_EQ(stats.decode_steps, opt.max_new_tokens - 1);  // static: the whole batch every step
        }
        EXPECT_EQ(stats.graph_replays, 0);  // CPU: eager steps
      }
    }
  }
}

// A POPE-shaped task: a system prompt, images with 1-8 questions of varied lengths, and
// text-only requests in between. Requests are in image-group order.
struct Task {
  std::vector<GenerationRequest> requests;
  std::vector<PrefixRequest> keys;
};

Task make_task(Fixture& f, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const char* questions[] = {"Is there a red circle in the image?", "What colour is the star?", "How many?",
                             "Is there a dog in the image? Please answer yes or no.", "Describe it.",
                             "Where is the small blue triangle, on the left or on the right of the square?"};
  const std::string system = "A chat between a curious user and an artificial intelligence assistant. USER: ";
  Task t;
  int64_t image = 0;
  for (int g = 0; g < 7; ++g) {
    const bool text_only = g % 3 == 2;
    const int n_questions = text_only ? 1 : 1 + static_cast<int>(rng() % 8);
    at::Tensor feats;
    if (!text_only) feats = features(f.model, 100 + image);
    for (int q = 0; q < n_questions; ++q) {
      const std::string question = questions[rng() % 6];
      const std::string prompt = text_only ? system + question + " ASSISTANT:" : system + "<image>\n" + question + " ASSISTANT:";
      GenerationRequest r{f.tok.encode_with_image(prompt), feats};
      PrefixRequest k{r.prompt, {}, text_only ? "" : "image" + std::to_string(image)};
      if (!text_only) k.image_keys = {"image" + std::to_string(image)};
      t.requests.push_back(r);
      t.keys.push_back(k);
    }
    if (!text_only) ++image;
  }
  return t;
}

// Every request through the store at batch size B equals the unshared batch-1 answer.
void expect_shared_equals_unshared(Fixture& f, const Task& t, const std::string& what) {
  Generator gen(f.model, f.tok, 400, 401);
  GenerationOptions opt;
  opt.max_new_tokens = 6;
  opt.stop_at_eos = false;
  opt.keep_logits = true;
  std::vector<GenerationResult> single;
  for (const auto& r : t.requests) single.push_back(gen.generate_reference({r}, opt)[0]);
  for (const size_t B : {size_t{1}, size_t{3}, size_t{8}, size_t{16}}) {
    const PrefixPlan plan = plan_prefixes(t.keys, 4);
    ASSERT_FALSE(plan.nodes.empty());
    PrefixStore store(plan);
    for (size_t i = 0; i < t.requests.size(); ++i) store.expect(i);
    GenerationStats stats;
    int64_t own = 0;
    for (size_t start = 0; start < t.requests.size(); start += B) {
      const size_t end = std::min(t.requests.size(), start + B);
      std::vector<GenerationRequest> batch(t.requests.begin() + start, t.requests.begin() + end);
      for (size_t i = start; i < end; ++i) {
        batch[i - start].prefix_node = plan.node_of[i];
        own += plan.positions[i] - plan.prefix_positions(i);
      }
      const auto got = gen.generate(batch, opt, &stats, &store);
      for (size_t i = start; i < end; ++i) {
        expect_same(got[i - start], single[i], what + " batch " + std::to_string(B) + " request " + std::to_string(i));
        store.done(i);
      }
    }
    int64_t nodes = 0, reused = 0;
    for (size_t n = 0; n < plan.nodes.size(); ++n) nodes += plan.segment_positions(static_cast<int64_t>(n));
    for (size_t i = 0; i < t.requests.size(); ++i) reused += plan.prefix_positions(i);
    EXPECT_EQ(store.counters().computed, nodes) << "each node is computed once";
    EXPECT_EQ(store.counters().reused, reused);
    EXPECT_EQ(stats.prefix_computed, nodes);
    EXPECT_EQ(stats.prefill_tokens - stats.prefix_computed - stats.padding, own) << "suffixes: each request's own positions";
    EXPECT_EQ(store.resident_bytes(), 0) << "every node released after its last request";
    EXPECT_GT(store.counters().peak_bytes, 0);
  }
}

TEST(Engine, SharedPrefixesEqualUnsharedDecoding) {
  Fixture f;
  const Task t = make_task(f, 7);
  expect_shared_equals_unshared(f, t, "base");
}

TEST(Engine, SharedPrefixesEqualUnsharedWithLoraAndLnDeltas) {
  Fixture f;
  const Task t = make_task(f, 11);
  {
    torch::NoGradGuard ng;
    at::manual_seed(3);
    for (auto& p : f.model->named_parameters())
      if (p.key().find("norm") != std::string::npos) p.value().mul_(1.0 + 0.2 * at::randn_like(p.value()));  // an LN delta
  }
  expect_shared_equals_unshared(f, t, "ln");
  for (auto& m : f.model->modules(/*include_self=*/false))
    if (auto* lin = dynamic_cast<AdaptableLinearImpl*>(m.get())) {
      lin->add_lora(4, 8.0, 0.0);
      torch::NoGradGuard ng;
      lin->lora_B->weight.normal_(0.0, 0.2);  // a trained adapter, not the identity
    }
  f.model->eval();
  expect_shared_equals_unshared(f, t, "lora");
}

// A trained KV prefix (prefix-tuning) and bottleneck adapters in every layer: shared
// prefixes, batches of 1 to 16 and the batch-1 reference still give the same answers.
TEST(Engine, SharedPrefixesEqualUnsharedWithAdaptersAndATrainedKvPrefix) {
  for (const AdapterPlacement placement : {AdapterPlacement::kSequential, AdapterPlacement::kParallel}) {
    Fixture f;
    const Task t = make_task(f, 13);
    at::manual_seed(5);
    for (size_t l = 0; l < f.model->llm->layers->size(); ++l)
      f.model->llm->layers->ptr<LlamaDecoderLayerImpl>(l)->add_adapters(8, "gelu", 2.0, placement,
                                                                          placement == AdapterPlacement::kSequential);
    f.model->llm->add_prefix(3, 0);
    {
      torch::NoGradGuard ng;
      for (auto& p : f.model->named_parameters())
        if (p.key().find("adapter_up") != std::string::npos) p.value().normal_(0.0, 0.2);  // not the identity
    }
    f.model->eval();
    expect_shared_equals_unshared(f, t, placement == AdapterPlacement::kSequential ? "houlsby+prefix" : "parallel+prefix");
  }
}

TEST(Engine, PrefixNodeMustMatchThePrompt) {
  Fixture f;
  Task t = make_task(f, 5);
  const PrefixPlan plan = plan_prefixes(t.keys, 4);
  PrefixStore store(plan);
  Generator gen(f.model, f.tok, 400, 401);
  GenerationRequest r = t.requests[0];
  r.prefix_node = plan.node_of[0];
  gen.generate({r}, no_eos(4), nullptr, &store);  // computes the node
  GenerationRequest other{f.tok.encode_with_image("USER: something else entirely ASSISTANT:"), {}};
  other.prefix_node = plan.node_of[0];
  EXPECT_THROW(gen.generate({other}, no_eos(4), nullptr, &store), c10::Error);
  EXPECT_THROW(gen.generate({r}, no_eos(4), nullptr, nullptr), c10::Error);
}

TEST(Engine, BatchedVisionTowerEqualsOneImageAtATime) {
  Fixture f;
  at::manual_seed(17);
  const at::Tensor pixels = at::randn({6, 3, 28, 28});
  torch::NoGradGuard ng;
  const at::Tensor batched = f.model->vision_features(pixels);  // (6, Np, Dv)
  for (int64_t i = 0; i < 6; ++i)
    EXPECT_LE((batched[i] - f.model->vision_features(pixels.narrow(0, i, 1))[0]).abs().max().item<double>(), 1e-5) << i;
}

PrefixRequest key(std::vector<int64_t> prompt, std::vector<std::string> images, std::string group) {
  return {std::move(prompt), std::move(images), std::move(group)};
}

TEST(PrefixPlan, RootGroupsImagesAndOwnPositions) {
  const int64_t I = kImageSlot;
  const std::vector<PrefixRequest> reqs = {
      key({1, 5, 6, I, 7, 8, 9}, {"a"}, "a"),     // image a, two questions sharing "7"
      key({1, 5, 6, I, 7, 3}, {"a"}, "a"),
      key({1, 5, 6, I, 7, 8, 9}, {"b"}, "b"),     // same text, another image: shares the root only
      key({1, 5, 6, 2, 2}, {}, ""),               // text-only
      key({1, 5, 6, I, 4}, {"c"}, "c"),           // a group of one: no node of its own
      key({1, 5, 6, I}, {"d"}, "d"),              // the same image twice, nothing after: one own position each
      key({1, 5, 6, I}, {"d"}, "d"),
  };
  const PrefixPlan p = plan_prefixes(reqs, 10);
  ASSERT_EQ(p.nodes.size(), 2u);  // group d: its image is its last symbol, which stays its own

  EXPECT_EQ(p.nodes[0].parent, -1);
  EXPECT_EQ(p.nodes[0].n_symbols, 3);  // BOS 5 6
  EXPECT_EQ(p.nodes[0].n_positions, 3);
  EXPECT_EQ(p.nodes[1].parent, 0);  // group a: 1 5 6 <a> 7
  EXPECT_EQ(p.nodes[1].n_symbols, 5);
  EXPECT_EQ(p.nodes[1].n_positions, 3 + 10 + 1);
  EXPECT_EQ(p.nodes[1].n_images, 1);
  EXPECT_EQ(p.node_of, (std::vector<int64_t>{1, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(p.segment_positions(1), 11);
  EXPECT_EQ(p.positions[0], 3 + 10 + 3);
}

TEST(PrefixPlan, GroupNodesOfTheSameTextDifferByImage) {
  const int64_t I = kImageSlot;
  const std::vector<PrefixRequest> reqs = {key({1, I, 7, 8}, {"x"}, "g"), key({1, I, 7, 9}, {"y"}, "g")};
  const PrefixPlan p = plan_prefixes(reqs, 4);  // one group, two different images: only BOS is common
  ASSERT_EQ(p.nodes.size(), 1u);
  EXPECT_EQ(p.nodes[0].n_positions, 1);
  EXPECT_THROW(plan_prefixes({key({1, I}, {}, "")}, 4), std::invalid_argument);       // slot without key
  EXPECT_THROW(plan_prefixes({key({1, 2}, {"z"}, "")}, 4), std::invalid_argument);    // key without slot
}

TEST(PrefixPlan, BudgetDropsGroupNodesThenTheRoot) {
  const int64_t I = kImageSlot;
  std::vector<PrefixRequest> reqs;
  for (int img = 0; img < 4; ++img)
    for (int q = 0; q < 3; ++q) reqs.push_back(key({1, 2, 3, I, 10 + q, 20}, {"i" + std::to_string(img)}, std::to_string(img)));
  std::vector<std::vector<size_t>> batches;  // batch size 4: each batch spans two images
  for (size_t s = 0; s < reqs.size(); s += 4) batches.push_back({s, s + 1, s + 2, s + 3});
  const PrefixPlan base = plan_prefixes(reqs, 8);
  ASSERT_EQ(base.nodes.size(), 5u);  // root (3 positions) + 4 images (8 each)
  int64_t dropped = -1;
  PrefixPlan p = base;
  EXPECT_EQ(fit_prefix_budget(p, batches, 1, 1000, &dropped), 3 + 2 * 8);  // at most two images alive
  EXPECT_EQ(dropped, 0);
  p = base;
  EXPECT_EQ(fit_prefix_budget(p, batches, 1, 18, &dropped), 3);
  EXPECT_EQ(dropped, 4);
  EXPECT_EQ(p.nodes.size(), 1u);
  for (int64_t n : p.node_of) EXPECT_EQ(n, 0);
  p = base;
  EXPECT_EQ(fit_prefix_budget(p, batches, 1, 2, &dropped), 0);
  EXPECT_EQ(dropped, 5);
  for (int64_t n : p.node_of) EXPECT_EQ(n, -1);
}

}  // namespace
