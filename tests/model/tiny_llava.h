// The random tiny LLaVA the generation tests share: peaked logits (weights ~ N(0, 0.3))
// so greedy decoding is well defined, and a mix of prompts with and without images.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "model/generate.h"
#include "model/llava.h"

namespace lnb::model::test {

inline const std::string kTokenizer = LNB_TEST_DATA_DIR "/model/tokenizer.model";

inline LlavaConfig tiny_config() {
  LlavaConfig c;
  c.vision.hidden_size = 16;
  c.vision.intermediate_size = 32;
  c.vision.n_layers = 2;
  c.vision.n_heads = 2;
  c.vision.image_size = 28;
  c.vision.patch_size = 14;  // Np = 4
  c.text.vocab_size = 402;
  c.text.hidden_size = 32;
  c.text.intermediate_size = 64;
  c.text.n_layers = 2;
  c.text.n_heads = 4;
  c.text.n_kv_heads = 2;
  c.text.rope_theta = 10000.0;
  c.image_token_index = 400;
  return c;
}

struct Fixture {
  Fixture() : tok(kTokenizer) {
    at::manual_seed(42);
    model = LlavaModel(tiny_config());
    torch::NoGradGuard ng;
    for (auto& p : model->parameters()) p.normal_(0.0, 0.3);  // peaked logits: greedy is well defined
    model->eval();
  }
  LlavaModel model{nullptr};
  Tokenizer tok;
};

inline at::Tensor features(LlavaModel& m, int64_t seed) {
  at::manual_seed(seed);
  torch::NoGradGuard ng;
  return m->vision_features(at::randn({1, 3, 28, 28}));  // (1, Np, Dv)
}

inline std::vector<GenerationRequest> mixed_requests(Fixture& f) {
  const char* texts[] = {"USER: <image>\nWhat shape is in the picture? ASSISTANT:", "a red circle",
                         "USER: <image>\nthere are three green triangles on the left of a yellow star ASSISTANT:",
                         "Please provide a description of the picture.", "<image>", "USER: 12345 ASSISTANT: a",
                         "A chat between a curious user and an artificial intelligence assistant. USER: <image>\nhi",
                         "two blue squares"};
  std::vector<GenerationRequest> r;
  int64_t seed = 0;
  for (const char* t : texts) {
    GenerationRequest q;
    q.prompt = f.tok.encode_with_image(t);
    if (std::count(q.prompt.begin(), q.prompt.end(), kImageSlot) > 0) q.image_features = features(f.model, ++seed);
    r.push_back(q);
  }
  return r;
}

// The token greedy decoding emits most often over `reqs` (12 tokens each): used as EOS,
// it makes rows finish at different steps.
inline int64_t most_common_token(Generator& gen, const std::vector<GenerationRequest>& reqs) {
  GenerationOptions probe;
  probe.max_new_tokens = 12;
  probe.stop_at_eos = false;
  std::map<int64_t, int> counts;
  for (const auto& r : reqs) {
    const GenerationResult res = gen.generate({r}, probe)[0];  // kept: a range-for over a temporary's member dangles
    for (int64_t t : res.tokens) ++counts[t];
  }
  return std::max_element(counts.begin(), counts.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
}

}  // namespace lnb::model::test
