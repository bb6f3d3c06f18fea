// The tensor-name registry (tensor_table.h, read by `lnbench params` and the strategies)
// is exactly what the modules register: the same names with the same shapes, over the
// config variants the loader supports (linear/MLP projector, GQA, tied head, no vision).
#include <gtest/gtest.h>

#include "model/llava.h"
#include "model/tensor_table.h"

using namespace lnb::model;

namespace {

LlavaConfig small(ProjectorKind kind, bool tied, int64_t kv_heads, bool vision) {
  LlavaConfig c;
  c.vision.hidden_size = 16;
  c.vision.intermediate_size = 24;
  c.vision.n_layers = 3;
  c.vision.n_heads = 2;
  c.vision.image_size = 42;
  c.vision.patch_size = 14;
  c.text.vocab_size = 50;
  c.text.hidden_size = 32;
  c.text.intermediate_size = 40;
  c.text.n_layers = 2;
  c.text.n_heads = 4;
  c.text.n_kv_heads = kv_heads;
  c.text.tie_word_embeddings = tied;
  c.projector = kind;
  c.has_vision = vision;
  return c;
}

TEST(Registry, TensorTableEqualsTheModulesParameters) {
  for (const LlavaConfig& c : {small(ProjectorKind::kLinear, false, 4, true), small(ProjectorKind::kMlp2xGelu, false, 2, true),
                               small(ProjectorKind::kMlp2xGelu, true, 1, true), small(ProjectorKind::kLinear, false, 2, false)}) {
    LlavaModel m(c);
    std::map<std::string, std::vector<int64_t>> module;
    for (const auto& p : m->named_parameters()) module[p.key()] = p.value().sizes().vec();
    std::map<std::string, std::vector<int64_t>> table;
    for (const TensorSpec& t : llava_tensors(c)) table[t.name] = t.shape;
    EXPECT_EQ(module, table);
  }
}

}  // namespace
