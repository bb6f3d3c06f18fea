// Parity with HF transformers (tests/model/hf_oracle.py): pixel values, CLIP features,
// logits and 32 greedy tokens of tiny random models in every checkpoint layout; Pillow's
// bicubic to the pixel; and the strict loader's errors on broken copies of those models.
#include <fstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "model/generate.h"
#include "model/image_preprocess.h"
#include "model/loader.h"
#include "model/safetensors.h"
#include "tests/model/oracle_fixture.h"

namespace fs = std::filesystem;
using namespace lnb::model;

namespace {

const fs::path& fixtures() {
  std::string error;
  const fs::path& d = lnb::test::hf_fixtures(&error);
  if (!error.empty()) ADD_FAILURE() << error;
  return d;
}

std::map<std::string, at::Tensor> read_ref(const fs::path& dir) {
  SafetensorsFile f(dir / "ref.safetensors");
  std::map<std::string, at::Tensor> out;
  for (const auto& n : f.names()) out[n] = f.tensor(n);
  return out;
}

std::vector<int64_t> to_vec(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

double max_abs(const at::Tensor& a, const at::Tensor& b) { return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>(); }

std::string read_prompt(const fs::path& dir) {
  std::ifstream in(dir / "ref.json");
  return nlohmann::json::parse(in)["prompt"].get<std::string>();
}

// Replaces one exact snippet of a model folder's config.json.
void edit_config(const fs::path& dir, const std::string& from, const std::string& to) {
  std::ifstream in(dir / "config.json");
  std::stringstream s;
  s << in.rdbuf();
  std::string cfg = s.str();
  const size_t at = cfg.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  cfg.replace(at, from.size(), to);
  std::ofstream(dir / "config.json") << cfg;
}

class HfParity : public ::testing::TestWithParam<std::string> {};

TEST_P(HfParity, FeaturesLogitsAndGreedyTokensMatchTransformers) {
  const fs::path dir = fixtures() / GetParam();
  const auto ref = read_ref(dir);
  LoadedModel m = load_model(dir);
  // Tokens: LLaVA's tokenizer_image_token of the same prompt.
  const std::vector<int64_t> prompt = m.tokenizer->encode_with_image(read_prompt(dir));
  ASSERT_EQ(prompt, to_vec(ref.at("prompt_ids")));
  // Pixels: CLIPImageProcessorPil on three images (two aspect ratios, one upscale).
  for (const char* name : {"wide", "tall", "small"}) {
    const at::Tensor px = preprocess_image(decode_image(fixtures() / "images" / (std::string(name) + ".png")), m.image);
    EXPECT_LE(max_abs(px, ref.at(std::string("pixel_values.") + name)), 1e-6) << name;
  }
  torch::NoGradGuard ng;
  const at::Tensor pixels = ref.at("pixel_values.wide").unsqueeze(0);
  const at::Tensor feats = m.model->vision_features(pixels);  // (1, Np, Dv)
  EXPECT_LE(max_abs(feats[0], ref.at("clip_features")), 1e-5);
  // Logits of the whole prompt, then 32 greedy steps.
  Generator gen(m.model, *m.tokenizer, m.image_token_id, m.pad_id);
  GenerationOptions opt;
  opt.max_new_tokens = 32;
  opt.stop_at_eos = false;
  opt.keep_logits = true;
  const auto res = gen.generate({{prompt, feats}}, opt);
  ASSERT_EQ(res[0].prompt_logits.sizes(), ref.at("logits").sizes());
  EXPECT_LE(max_abs(res[0].prompt_logits, ref.at("logits")), 1e-4);
  EXPECT_EQ(res[0].tokens, to_vec(ref.at("greedy_tokens")));
}

INSTANTIATE_TEST_SUITE_P(Layouts, HfParity, ::testing::Values("hf336", "hf336_new", "hf224", "v1_linear"));

TEST(HfParity, LayoutsAreDetectedAndDiffer) {
  EXPECT_NE(load_model(fixtures() / "hf336_new").hub_layout, load_model(fixtures() / "hf336").hub_layout);
  const LoadedModel v1 = load_model(fixtures() / "v1_linear");
  EXPECT_EQ(v1.config.projector, ProjectorKind::kLinear);
  EXPECT_EQ(v1.config.vision.image_size, 224);  // read from the separate CLIP folder
  EXPECT_EQ(v1.image_token_id, kImageSlot);
}

TEST(HfParity, Bf16LogitsStayCloseToFp32) {
  const fs::path dir = fixtures() / "hf224";
  const auto ref = read_ref(dir);
  LoadOptions o;
  o.dtype = at::kBFloat16;
  LoadedModel m = load_model(dir, o);
  torch::NoGradGuard ng;
  const at::Tensor feats = m.model->vision_features(ref.at("pixel_values.wide").unsqueeze(0).to(at::kBFloat16));
  Generator gen(m.model, *m.tokenizer, m.image_token_id, m.pad_id);
  GenerationOptions opt;
  opt.max_new_tokens = 1;
  opt.keep_logits = true;
  const auto res = gen.generate({{to_vec(ref.at("prompt_ids")), feats}}, opt);
  const at::Tensor want = ref.at("logits");
  // bf16 has 8 mantissa bits: compare relative to the logits' spread.
  EXPECT_LE(max_abs(res[0].prompt_logits, want), 0.05 * want.abs().max().item<double>() + 0.05);
  EXPECT_GT(max_abs(res[0].prompt_logits, want), 0.0);  // it really ran in bf16
}

// ---- Pillow-exact bicubic ---------------------------------------------------------------

Image8 read_png(const fs::path& p) { return decode_image(p); }

TEST(PilResize, ZeroDifferingPixelsAgainstPillow) {
  int files = 0;
  for (const auto& e : fs::directory_iterator(fixtures() / "images" / "resized")) {
    std::string stem = e.path().stem().string();  // <image>_<w>x<h>[.hv|.vh]
    PassOrder order = PassOrder::kHorizontalFirst;
    if (stem.ends_with(".vh")) order = PassOrder::kVerticalFirst;
    if (stem.ends_with(".vh") || stem.ends_with(".hv")) stem.resize(stem.size() - 3);
    const size_t us = stem.rfind('_'), x = stem.rfind('x');
    const int w = std::stoi(stem.substr(us + 1, x - us - 1)), h = std::stoi(stem.substr(x + 1));
    const Image8 src = read_png(fixtures() / "images" / (stem.substr(0, us) + ".png"));
    const Image8 want = read_png(e.path());
    const Image8 got = pil_resize_bicubic(src, w, h, order);
    ASSERT_EQ(got.width, want.width);
    ASSERT_EQ(got.height, want.height);
    int64_t differing = 0;
    for (size_t i = 0; i < got.pixels.size(); ++i) differing += got.pixels[i] != want.pixels[i];
    EXPECT_EQ(differing, 0) << e.path();
    ++files;
  }
  EXPECT_EQ(files, 3 * (3 + 2 + 6));
}

TEST(PilResize, OpenCvInterCubicDiffersFromPillow) {  // why pil_resize exists; keeps the test above honest
  const Image8 src = read_png(fixtures() / "images" / "wide.png");
  const Image8 want = read_png(fixtures() / "images" / "resized" / "wide_448x336.png");
  cv::Mat in(src.height, src.width, CV_8UC3, const_cast<uint8_t*>(src.pixels.data())), out;
  cv::resize(in, out, cv::Size(448, 336), 0, 0, cv::INTER_CUBIC);
  int64_t differing = 0;
  for (int y = 0; y < 336; ++y)
    for (int i = 0; i < 448 * 3; ++i) differing += out.ptr<uint8_t>(y)[i] != want.pixels[static_cast<size_t>(y) * 448 * 3 + i];
  EXPECT_GT(differing, 1000);
}

// ---- The strict loader on broken copies ---------------------------------------------------

fs::path copy_model(const std::string& name, const std::string& tag) {
  const fs::path to = lnb::test::make_temp_dir("lnb-broken-" + tag);
  fs::copy(fixtures() / name, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  return to;
}

void rewrite_weights(const fs::path& dir, const std::function<void(std::vector<std::pair<std::string, at::Tensor>>&)>& edit) {
  SafetensorsFile f(dir / "model.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> t;
  for (const auto& n : f.names()) t.emplace_back(n, f.tensor(n));
  edit(t);
  save_safetensors(dir / "model.safetensors", t);
}

std::string load_error(const fs::path& dir) {
  try {
    load_model(dir);
  } catch (const ModelLoadError& e) {
    return e.what();
  }
  return "(loaded)";
}

TEST(StrictLoader, MissingTensorIsNamed) {
  const fs::path d = copy_model("hf224", "missing");
  rewrite_weights(d, [](auto& t) { std::erase_if(t, [](auto& p) { return p.first == "language_model.model.norm.weight"; }); });
  const std::string e = load_error(d);
  EXPECT_NE(e.find("lacks"), std::string::npos) << e;
  EXPECT_NE(e.find("llm.norm.weight"), std::string::npos) << e;
  fs::remove_all(d);
}

TEST(StrictLoader, ExtraTensorIsALeftover) {
  const fs::path d = copy_model("hf224", "extra");
  rewrite_weights(d, [](auto& t) { t.emplace_back("language_model.model.layers.7.mlp.up_proj.weight", at::zeros({2, 2})); });
  const std::string e = load_error(d);
  EXPECT_NE(e.find("left over"), std::string::npos) << e;
  EXPECT_NE(e.find("layers.7.mlp.up_proj.weight"), std::string::npos) << e;
  fs::remove_all(d);
}

TEST(StrictLoader, UnknownTensorIsAnError) {
  const fs::path d = copy_model("hf224", "unknown");
  rewrite_weights(d, [](auto& t) { t.emplace_back("something.else.weight", at::zeros({2})); });
  EXPECT_NE(load_error(d).find("something.else.weight"), std::string::npos);
  fs::remove_all(d);
}

TEST(StrictLoader, MisshapedTensorNamesBothShapes) {
  const fs::path d = copy_model("hf224", "shape");
  rewrite_weights(d, [](auto& t) {
    for (auto& [n, v] : t)
      if (n == "multi_modal_projector.linear_1.weight") v = at::zeros({64, 31});
  });
  const std::string e = load_error(d);
  EXPECT_NE(e.find("multi_modal_projector.linear_1.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("[64, 31]"), std::string::npos) << e;
  EXPECT_NE(e.find("[64, 32]"), std::string::npos) << e;
  fs::remove_all(d);
}

TEST(StrictLoader, TokenizerLargerThanEmbeddingsIsRejected) {
  const fs::path d = copy_model("hf224", "vocab");
  // Shrink the model's vocabulary below the tokenizer's 400 pieces (tensors follow).
  edit_config(d, "\"vocab_size\": 402", "\"vocab_size\": 300");
  edit_config(d, "\"image_token_index\": 400", "\"image_token_index\": 298");
  edit_config(d, "\"pad_token_id\": 401", "\"pad_token_id\": 299");
  rewrite_weights(d, [](auto& t) {
    for (auto& [n, v] : t)
      if (n.find("embed_tokens") != std::string::npos || n.find("lm_head") != std::string::npos) v = v.narrow(0, 0, 300).clone();
  });
  const std::string e = load_error(d);
  EXPECT_NE(e.find("tokenizer.model"), std::string::npos) << e;
  EXPECT_NE(e.find("400 pieces"), std::string::npos) << e;
  fs::remove_all(d);
}

TEST(StrictLoader, UnsupportedConfigAndMissingTowerAreClear) {
  const fs::path d = copy_model("v1_linear", "tower");
  fs::remove_all(d / "clip");
  EXPECT_NE(load_error(d).find("mm_vision_tower"), std::string::npos);
  fs::remove_all(d);
  const fs::path d2 = copy_model("hf224", "rope");
  edit_config(d2, "\"rope_type\": \"default\"", "\"rope_type\": \"yarn\"");
  const std::string e = load_error(d2);
  EXPECT_NE(e.find("rope_parameters.rope_type"), std::string::npos) << e;
  fs::remove_all(d2);
}

TEST(Images, NotAnImageIsAnImageErrorNamingTheFile) {
  const fs::path d = lnb::test::make_temp_dir("lnb-img");
  std::ofstream(d / "fake.jpg") << "this is not a jpeg";
  try {
    decode_image(d / "fake.jpg");
    FAIL() << "decoded a text file";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("fake.jpg"), std::string::npos);
  }
  EXPECT_THROW(decode_image(d / "absent.png"), ImageError);
  std::ofstream(d / "empty.png").close();
  EXPECT_THROW(decode_image(d / "empty.png"), ImageError);
  fs::remove_all(d);
}

}  // namespace
