// Interop and scale-out: PEFT loads lnbench's adapters (and transformers its merged
// checkpoints) with the logits lnbench computes; two `lnbench train` processes on
// loopback (c10d, Gloo) reach the weights of one process with the same global batch.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "model/generate.h"
#include "model/loader.h"
#include "model/safetensors.h"
#include "tests/training/train_fixture.h"
#include "training/checkpoint.h"
#include "training/distributed.h"

namespace lnb::training {
namespace {

namespace fs = std::filesystem;

// Prompt logits of the oracle's reference prompt and image (ref.safetensors).
at::Tensor prompt_logits(model::LoadedModel& m) {
  const model::SafetensorsFile ref(test::tiny_model() / "ref.safetensors");
  model::GenerationRequest req;
  const at::Tensor ids = ref.tensor("prompt_ids");
  req.prompt.assign(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
  {
    at::NoGradGuard ng;
    req.image_features = m.model->vision_features(ref.tensor("pixel_values.wide").unsqueeze(0));
  }
  model::Generator gen(m.model, *m.tokenizer, m.image_token_id, m.pad_id);
  model::GenerationOptions opt;
  opt.max_new_tokens = 1;
  opt.keep_logits = true;
  return gen.generate({req}, opt)[0].prompt_logits;
}

class Peft : public ::testing::TestWithParam<std::string> {};

TEST_P(Peft, LoadsTheAdapterAndTheMergedCheckpointWithLnbenchsLogits) {
  const std::string strategy = GetParam();
  const fs::path d = test::make_temp_dir("lnb-peft");
  TrainOptions o = test::tiny_options(d, strategy);
  Dist single(DistEnv{}, c10::Device(c10::kCPU));
  const nlohmann::json report = train(o, single);
  const fs::path ckpt = o.out_dir / "checkpoint";
  ASSERT_TRUE(fs::exists(ckpt / "peft" / "adapter_config.json"));
  merge_checkpoint(test::tiny_model(), ckpt, d / "merged");

  model::LoadedModel m = model::load_model(test::tiny_model());
  apply_delta(m, ckpt);
  const at::Tensor ours = prompt_logits(m);
  model::LoadedModel merged = model::load_model(d / "merged");
  const at::Tensor ours_merged = prompt_logits(merged);

  ASSERT_EQ(test::run_oracle("peft " + test::tiny_model().string() + " " + (ckpt / "peft").string() + " " +
                                 (d / "merged").string() + " " + (d / "peft.safetensors").string(),
                             d / "oracle.log"),
            "");
  const model::SafetensorsFile ref(d / "peft.safetensors");
  const model::SafetensorsFile base_ref(test::tiny_model() / "ref.safetensors");
  // The adapter really changed the model (else a silently ignored adapter would pass).
  EXPECT_GT((ours - base_ref.tensor("logits")).abs().max().item<double>(), 1e-3);
  EXPECT_LE((ours - ref.tensor("peft_logits")).abs().max().item<double>(), 1e-4);
  EXPECT_LE((ours - ref.tensor("merged_logits")).abs().max().item<double>(), 1e-4);
  EXPECT_LE((ours - ours_merged).abs().max().item<double>(), 1e-4);
  EXPECT_EQ(ref.tensor("peft_trainable").item<int64_t>(), report["trainable_params"].get<int64_t>());
}

INSTANTIATE_TEST_SUITE_P(Strategies, Peft, ::testing::Values("lora", "ln", "ln-simple"));

// The other way round: an adapter PEFT made and saved (LoRA with modules_to_save, rsLoRA,
// LN tuning) evaluates in lnbench with PEFT's logits, through apply_delta and through
// the delta swap, which then restores the base bit for bit.
class PeftIn : public ::testing::TestWithParam<std::string> {};

TEST_P(PeftIn, APeftMadeAdapterGivesPeftsLogits) {
  const std::string kind = GetParam();
  const fs::path d = test::make_temp_dir("lnb-peft-in");
  ASSERT_EQ(test::run_oracle("peft_make " + kind + " " + test::tiny_model().string() + " " + (d / "adapter").string() + " " +
                                 (d / "peft.safetensors").string(),
                             d / "oracle.log"),
            "");
  const model::SafetensorsFile ref(d / "peft.safetensors");
  const model::SafetensorsFile base_ref(test::tiny_model() / "ref.safetensors");
  model::LoadedModel m = model::load_model(test::tiny_model());
  const nlohmann::json meta = apply_delta(m, d / "adapter");
  EXPECT_EQ(meta["schema"], "peft");
  EXPECT_EQ(meta["kind"], "peft");
  if (kind == "patterns") {  // each module at its own rank: the first matching pattern wins
    const nlohmann::json& pm = meta["lora"]["patterned"];
    EXPECT_EQ(pm["llm.layers.0.self_attn.q_proj"]["rank"], 3) << pm.dump();
    EXPECT_EQ(pm["llm.layers.1.self_attn.q_proj"]["rank"], 2) << pm.dump();
    EXPECT_EQ(pm["llm.layers.1.self_attn.v_proj"]["rank"], 6) << pm.dump();
    EXPECT_EQ(pm["llm.layers.0.mlp.down_proj"]["alpha"], 3.0) << pm.dump();
    EXPECT_EQ(pm["llm.layers.0.self_attn.v_proj"]["alpha"], 20.0) << pm.dump();
  }
  const at::Tensor ours = prompt_logits(m);
  EXPECT_GT((ours - base_ref.tensor("logits")).abs().max().item<double>(), 1e-3);  // the adapter changed the model
  EXPECT_LE((ours - ref.tensor("peft_logits")).abs().max().item<double>(), 1e-5);
  if (kind != "lora" && kind != "prefix") {  // PEFT's count includes modules_to_save's copies beside the originals
    EXPECT_EQ(meta["trainable_params"].get<int64_t>(), ref.tensor("peft_trainable").item<int64_t>());
  }

  model::LoadedModel swapped = model::load_model(test::tiny_model());
  const at::Tensor before = prompt_logits(swapped);
  {
    DeltaSwap swap(swapped);
    swap.set_fold_lora(true);
    swap.apply(d / "adapter");
    EXPECT_LE((prompt_logits(swapped) - ref.tensor("peft_logits")).abs().max().item<double>(), 1e-5);
    swap.restore();
  }
  EXPECT_TRUE(at::equal(prompt_logits(swapped), before));
}

INSTANTIATE_TEST_SUITE_P(Kinds, PeftIn, ::testing::Values("lora", "rslora", "patterns", "ln", "prefix"));

// The injected modules against their reference implementations (train_oracle.py
// injected_ref: PEFT's PrefixTuning, bottleneck adapters hooked onto transformers' LLaMA
// sublayers): with the reference's weights copied in, the step-1 loss and the gradients of
// every injected tensor (and of a connector bias and two norms: bitfit, ln-attn, ln-ffn)
// agree within 1e-5.
class InjectedReference : public ::testing::TestWithParam<std::string> {};

TEST_P(InjectedReference, StepOneLossAndGradientsEqualTheReference) {
  const std::string kind = GetParam();
  const fs::path d = test::make_temp_dir("lnb-injected");
  ASSERT_EQ(test::run_oracle("injected_ref " + kind + " " + test::tiny_model().string() + " " + (d / "ref.safetensors").string(),
                             d / "oracle.log"),
            "");
  const model::SafetensorsFile ref(d / "ref.safetensors");
  model::LoadedModel m = model::load_model(test::tiny_model());
  const bool prefix = kind == "prefix" || kind == "prefix-mlp" || kind == "mam";
  const Strategy& s = find_strategy(kind == "mam" ? "mam" : prefix ? "prefix" : "adapter");
  AdapterSpec adapter;
  adapter.reduction = 8;  // 64 / 8: the oracle's bottleneck
  adapter.placement = kind == "houlsby" ? "houlsby" : kind == "parallel" ? "parallel" : "pfeiffer";
  PrefixSpec px;
  px.length = 5;
  px.projection = kind == "prefix-mlp" ? 12 : 0;
  inject_modules(m.model, s, {}, adapter, px);
  auto params = m.model->named_parameters();
  for (auto& item : params) item.value().set_requires_grad(false);
  int64_t copied = 0;
  for (const std::string& key : ref.names()) {
    if (key.rfind("w.", 0) != 0) continue;
    at::Tensor* p = params.find(key.substr(2));
    ASSERT_NE(p, nullptr) << key << ": the reference has a tensor lnbench's module lacks";
    torch::NoGradGuard ng;
    p->copy_(ref.tensor(key));
    p->set_requires_grad(true);
    ++copied;
  }
  int64_t injected = 0;
  for (const auto& item : params)
    if (trains(s, item.key()) && !trains(find_strategy("ln"), item.key())) ++injected;
  EXPECT_EQ(copied, injected + 3) << "every injected tensor has its reference twin";

  const model::SafetensorsFile prompt(test::tiny_model() / "ref.safetensors");
  std::vector<int64_t> ids;
  const at::Tensor raw = prompt.tensor("prompt_ids");
  for (int64_t i = 0; i < raw.numel(); ++i) {
    const int64_t t = raw[i].item<int64_t>();
    if (t != model::kImageSlot) ids.push_back(t);
    else
      for (int64_t k = 0; k < m.config.vision.n_patches(); ++k) ids.push_back(m.image_token_id);
  }
  const int64_t T = static_cast<int64_t>(ids.size()), V = m.config.text.vocab_size;
  const at::Tensor id_t = at::tensor(ids, at::kLong).view({1, T});
  const at::Tensor image = id_t == m.image_token_id;
  m.model->train();
  m.model->vision_model->eval();
  at::Tensor features;
  {
    torch::NoGradGuard ng;
    features = m.model->vision_features(prompt.tensor("pixel_values.wide").unsqueeze(0));
  }
  const at::Tensor embeds = m.model->embed(id_t, image, m.model->project(features).reshape({-1, m.config.text.hidden_size}));
  const at::Tensor logits = m.model->logits(embeds, {at::arange(T, at::kLong).view({1, T}), {}}, nullptr);
  const at::Tensor labels = id_t.masked_fill(image, -100);
  const at::Tensor loss = at::cross_entropy_loss(logits.narrow(1, 0, T - 1).reshape({-1, V}),
                                                 labels.narrow(1, 1, T - 1).reshape({-1}), {}, at::Reduction::Mean, -100);
  loss.backward();
  EXPECT_NEAR(loss.item<double>(), ref.tensor("loss").item<double>(), 1e-5);
  for (const std::string& key : ref.names()) {
    if (key.rfind("g.", 0) != 0) continue;
    const at::Tensor want = ref.tensor(key);
    const at::Tensor* p = params.find(key.substr(2));
    ASSERT_NE(p, nullptr) << key;
    ASSERT_TRUE(p->grad().defined()) << key << " got no gradient";
    const double scale = std::max(1.0, want.abs().max().item<double>());
    EXPECT_LE((p->grad() - want).abs().max().item<double>(), 1e-5 * scale) << key;
    EXPECT_GT(want.abs().max().item<double>(), 0.0) << key << ": a zero reference gradient proves nothing";
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, InjectedReference,
                         ::testing::Values("prefix", "prefix-mlp", "pfeiffer", "houlsby", "parallel", "mam"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// A prefix run's PEFT twin (PREFIX_TUNING, the KV prefix folded to prompt_embeddings, the
// trained base tensors as modules_to_save) loads in PEFT with lnbench's logits; the delta
// swap folds the reparameterisation MLP and then restores the base bit for bit.
class PrefixPeft : public ::testing::TestWithParam<std::string> {};

TEST_P(PrefixPeft, PeftLoadsThePrefixWithLnbenchsLogits) {
  const std::string strategy = GetParam();
  const fs::path d = test::make_temp_dir("lnb-prefix-peft");
  TrainOptions o = test::tiny_options(d, strategy);
  o.prefix.length = 4;
  o.prefix.projection = 8;
  Dist single(DistEnv{}, c10::Device(c10::kCPU));
  train(o, single);
  const fs::path ckpt = o.out_dir / "checkpoint";
  ASSERT_TRUE(fs::exists(ckpt / "peft" / "adapter_config.json"));
  model::LoadedModel m = model::load_model(test::tiny_model());
  const at::Tensor before = prompt_logits(m);
  at::Tensor ours;
  {
    DeltaSwap swap(m);
    swap.set_fold_lora(true);
    const nlohmann::json meta = swap.apply(ckpt);
    EXPECT_FALSE(m.model->llm->prefix->projected()) << "folded for evaluation";
    ours = prompt_logits(m);
    swap.restore();
    EXPECT_FALSE(m.model->llm->has_prefix());
  }
  EXPECT_TRUE(at::equal(prompt_logits(m), before)) << "the base is back bit for bit";
  model::LoadedModel unfolded = model::load_model(test::tiny_model());
  apply_delta(unfolded, ckpt);
  EXPECT_TRUE(unfolded.model->llm->prefix->projected());
  EXPECT_LE((prompt_logits(unfolded) - ours).abs().max().item<double>(), 1e-5);

  ASSERT_EQ(test::run_oracle("peft_prefix " + test::tiny_model().string() + " " + (ckpt / "peft").string() + " " +
                                 (d / "peft.safetensors").string(),
                             d / "oracle.log"),
            "");
  const model::SafetensorsFile ref(d / "peft.safetensors");
  EXPECT_GT((ours - before).abs().max().item<double>(), 1e-3) << "the prefix changed the model";
  model::LoadedModel twin = model::load_model(test::tiny_model());
  EXPECT_EQ(apply_delta(twin, ckpt / "peft")["prefix"]["length"], 4);  // lnbench reads its own PEFT twin back
  EXPECT_LE((prompt_logits(twin) - ours).abs().max().item<double>(), 1e-5);
  EXPECT_LE((ours - ref.tensor("peft_logits")).abs().max().item<double>(), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Strategies, PrefixPeft, ::testing::Values("prefix", "prefix+ln"),
                         [](const auto& info) { return info.param == "prefix" ? std::string("prefix") : std::string("prefix_ln"); });

// Adapters evaluate through the delta swap: the answers change, the base comes back bit for
// bit, and a checkpoint with adapters refuses to merge into a plain HF checkpoint.
TEST(AdapterSwap, AdaptersApplyAndTheBaseComesBackBitForBit) {
  const fs::path d = test::make_temp_dir("lnb-adapter-swap");
  TrainOptions o = test::tiny_options(d, "mam");
  o.prefix.length = 3;
  Dist single(DistEnv{}, c10::Device(c10::kCPU));
  train(o, single);
  model::LoadedModel m = model::load_model(test::tiny_model());
  const at::Tensor before = prompt_logits(m);
  const auto names_before = m.model->named_parameters().keys();
  {
    DeltaSwap swap(m);
    const nlohmann::json meta = swap.apply(o.out_dir / "checkpoint");
    EXPECT_EQ(meta["adapter"]["placement"], "parallel");
    int64_t total = 0;
    for (const at::Tensor& t : m.model->parameters()) total += t.numel();
    EXPECT_EQ(meta["total_params"].get<int64_t>(), total);
    EXPECT_GT((prompt_logits(m) - before).abs().max().item<double>(), 1e-3);
  }
  EXPECT_EQ(m.model->named_parameters().keys(), names_before) << "every injected module removed";
  EXPECT_TRUE(at::equal(prompt_logits(m), before));
  try {
    merge_checkpoint(test::tiny_model(), o.out_dir / "checkpoint", d / "merged");
    FAIL() << "an adapter checkpoint merged";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be merged"), std::string::npos) << e.what();
  }
}

// The first error line of applying `dir` to a fresh tiny model ("no error" if none).
std::string apply_error(const fs::path& dir) {
  model::LoadedModel m = model::load_model(test::tiny_model());
  try {
    apply_delta(m, dir);
  } catch (const model::ModelLoadError& e) {
    return std::string(e.what());
  }
  return "no error";
}

// A LoRA run saved as LLaVA's train.py saves it (adapter_model.bin and
// non_lora_trainables.bin, torch.save zips, in LLaVA's own module names; LLaVA's
// config.json) evaluates with the logits PEFT gives the same weights, through the delta
// swap too, and counts what it holds.
TEST(LlavaLoraIn, AReleaseFolderGivesPeftsLogits) {
  const fs::path d = test::make_temp_dir("lnb-llava-in");
  ASSERT_EQ(test::run_oracle("llava_make " + test::tiny_model().string() + " " + (d / "release").string() + " " +
                                 (d / "ref.safetensors").string(),
                             d / "oracle.log"),
            "");
  ASSERT_FALSE(fs::exists(d / "release" / "adapter_model.safetensors"));  // the pickle path is what is read
  EXPECT_EQ(checkpoint_kind(d / "release"), CheckpointKind::kLlavaLora);
  const model::SafetensorsFile ref(d / "ref.safetensors");
  model::LoadedModel m = model::load_model(test::tiny_model());
  const at::Tensor before = prompt_logits(m);
  const nlohmann::json meta = apply_delta(m, d / "release");
  EXPECT_EQ(meta["kind"], "llava-lora");
  EXPECT_EQ(meta["trainable_params"].get<int64_t>(), ref.tensor("peft_trainable").item<int64_t>());
  const at::Tensor ours = prompt_logits(m);
  EXPECT_GT((ours - before).abs().max().item<double>(), 1e-3);
  EXPECT_LE((ours - ref.tensor("peft_logits")).abs().max().item<double>(), 1e-5);

  model::LoadedModel swapped = model::load_model(test::tiny_model());
  {
    DeltaSwap swap(swapped);
    swap.set_fold_lora(true);
    swap.apply(d / "release");
    EXPECT_LE((prompt_logits(swapped) - ref.tensor("peft_logits")).abs().max().item<double>(), 1e-5);
  }
  EXPECT_TRUE(at::equal(prompt_logits(swapped), before));  // the projector and the weights restored bit for bit

  // Another base: LLaVA's config names another projector.
  const fs::path other = d / "other_projector";
  fs::copy(d / "release", other);
  nlohmann::json cfg = nlohmann::json::parse(std::ifstream(other / "config.json"));
  cfg["mm_projector_type"] = cfg["mm_projector_type"] == "linear" ? "mlp2x_gelu" : "linear";
  std::ofstream(other / "config.json") << cfg.dump();
  std::string e = apply_error(other);
  EXPECT_NE(e.find("config.json"), std::string::npos) << e;
  EXPECT_NE(e.find("mm_projector_type"), std::string::npos) << e;
  // A damaged pickle names its file.
  const fs::path damaged = d / "damaged";
  fs::copy(d / "release", damaged);
  std::ofstream(damaged / "non_lora_trainables.bin", std::ios::trunc) << "PK\3\4 not really a zip";
  e = apply_error(damaged);
  EXPECT_NE(e.find("non_lora_trainables.bin"), std::string::npos) << e;
  std::ofstream(damaged / "non_lora_trainables.bin", std::ios::trunc) << "\x80\x02}q\x00.";  // a legacy bare pickle
  e = apply_error(damaged);
  EXPECT_NE(e.find("non_lora_trainables.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("zip"), std::string::npos) << e;
}

// A full fine-tune over its base: the logits transformers computes, the elements that
// moved counted as trained (the vision tower did not), the base restored bit for bit.
TEST(FullIn, AFullCheckpointIsEvaluatedAgainstItsBase) {
  const fs::path d = test::make_temp_dir("lnb-full-in");
  ASSERT_EQ(test::run_oracle("full_make " + test::tiny_model().string() + " " + (d / "full").string() + " " +
                                 (d / "ref.safetensors").string(),
                             d / "oracle.log"),
            "");
  EXPECT_EQ(checkpoint_kind(d / "full"), CheckpointKind::kFull);
  const model::SafetensorsFile ref(d / "ref.safetensors");
  model::LoadedModel m = model::load_model(test::tiny_model());
  const at::Tensor before = prompt_logits(m);
  {
    DeltaSwap swap(m);
    const nlohmann::json meta = swap.apply(d / "full");
    EXPECT_EQ(meta["kind"], "full");
    EXPECT_EQ(meta["trainable_params"].get<int64_t>(), ref.tensor("moved").item<int64_t>());
    EXPECT_GT(meta["unchanged_params"].get<int64_t>(), 0);  // the tower, equal to the base's
    EXPECT_LE((prompt_logits(m) - ref.tensor("logits")).abs().max().item<double>(), 1e-5);
  }
  EXPECT_TRUE(at::equal(prompt_logits(m), before));

  // A partial save is refused, naming the missing tensor.
  const fs::path partial = d / "partial";
  fs::create_directories(partial);
  fs::copy_file(d / "full" / "config.json", partial / "config.json");
  const model::SafetensorsFile f(d / "full" / "model.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const std::string& k : f.names())
    if (k.find("layers.1.mlp.up_proj") == std::string::npos) tensors.emplace_back(k, f.tensor(k));
  model::save_safetensors(partial / "model.safetensors", tensors);
  const std::string e = apply_error(partial);
  EXPECT_NE(e.find("llm.layers.1.mlp.up_proj.weight"), std::string::npos) << e;
}

TEST(PeftIn, BadAdaptersNameTheFileAndTheKey) {
  const fs::path d = test::make_temp_dir("lnb-peft-bad");
  ASSERT_EQ(test::run_oracle("peft_make lora " + test::tiny_model().string() + " " + (d / "adapter").string() + " " +
                                 (d / "peft.safetensors").string(),
                             d / "oracle.log"),
            "");
  auto error_of = [&](const fs::path& dir) {
    model::LoadedModel m = model::load_model(test::tiny_model());
    try {
      apply_delta(m, dir);
    } catch (const model::ModelLoadError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string cfg_text = [&] {
    std::ifstream in(d / "adapter" / "adapter_config.json");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  auto variant = [&](const std::string& name, const std::string& config, bool rename_a_tensor) {
    const fs::path v = d / name;
    fs::create_directories(v);
    std::ofstream(v / "adapter_config.json") << config;
    const model::SafetensorsFile f(d / "adapter" / "adapter_model.safetensors");
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const std::string& k : f.names()) {
      std::string key = k;
      if (rename_a_tensor && key.find("q_proj.lora_A") != std::string::npos) key.replace(key.find("q_proj"), 6, "qq_proj");
      tensors.emplace_back(key, f.tensor(k));
    }
    model::save_safetensors(v / "adapter_model.safetensors", tensors);
    return v;
  };
  nlohmann::json cfg = nlohmann::json::parse(cfg_text);
  std::string e = error_of(variant("unknown_module", cfg_text, true));
  EXPECT_NE(e.find("adapter_model.safetensors"), std::string::npos) << e;
  EXPECT_NE(e.find("qq_proj"), std::string::npos) << e;
  cfg["r"] = 8;
  e = error_of(variant("rank", cfg.dump(), false));
  EXPECT_NE(e.find("expected rank 8"), std::string::npos) << e;
  EXPECT_NE(e.find("lora_"), std::string::npos) << e;
  cfg["r"] = 4;
  cfg["rank_pattern"] = {{"v_proj", 2}};  // the tensors hold rank 4 everywhere
  e = error_of(variant("rank_pattern", cfg.dump(), false));
  EXPECT_NE(e.find("expected rank 2"), std::string::npos) << e;
  EXPECT_NE(e.find("rank_pattern"), std::string::npos) << e;
  EXPECT_NE(e.find("v_proj.lora_"), std::string::npos) << e;
  cfg["rank_pattern"] = {{"v_proj(", 2}};
  e = error_of(variant("bad_regex", cfg.dump(), false));
  EXPECT_NE(e.find("rank_pattern.v_proj("), std::string::npos) << e;
  cfg.erase("rank_pattern");
  cfg["peft_type"] = "IA3";
  e = error_of(variant("type", cfg.dump(), false));
  EXPECT_NE(e.find("adapter_config.json"), std::string::npos) << e;
  EXPECT_NE(e.find("peft_type"), std::string::npos) << e;
}

std::string train_cmd(const fs::path& data, const fs::path& out, int batch) {
  return std::string(LNB_BINARY_DIR) + "/bin/lnbench train --model " + test::tiny_model().string() + " --data " +
         data.string() + " --images " + test::tiny_images().string() + " --out " + out.string() +
         " --strategy ln --lr 1e-2 --warmup-ratio 0 --epochs 2 --quiet --batch-size " + std::to_string(batch);
}

TEST(DataParallel, TwoCpuProcessesReachTheWeightsOfOneWithTheSameGlobalBatch) {
  const fs::path d = test::make_temp_dir("lnb-ddp");
  const fs::path data = test::write_tiny_data(d);
  ASSERT_EQ(std::system((train_cmd(data, d / "one", 4) + " > " + (d / "one.log").string() + " 2>&1").c_str()), 0);
  std::mt19937 rng(std::random_device{}());
  const int port = 20000 + static_cast<int>(rng() % 20000);
  const std::string env = "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port);
  const std::string two = train_cmd(data, d / "two", 2);
  const std::string script = "RANK=0 LOCAL_RANK=0 " + env + " " + two + " > " + (d / "rank0.log").string() + " 2>&1 & p=$!; " +
                             "RANK=1 LOCAL_RANK=1 " + env + " " + two + " > " + (d / "rank1.log").string() +
                             " 2>&1; r1=$?; wait $p; r0=$?; exit $((r0 | r1))";
  ASSERT_EQ(std::system(("sh -c '" + script + "'").c_str()), 0) << script;
  std::ifstream tj(d / "two" / "train.json");
  const nlohmann::json j = nlohmann::json::parse(tj);
  EXPECT_EQ(j["distributed"]["world_size"], 2);
  EXPECT_EQ(j["distributed"]["backend"], "gloo");
  EXPECT_FALSE(fs::exists(d / "two" / "rank1"));  // rank 0 alone writes
  const model::SafetensorsFile a(d / "one" / "checkpoint" / "model.safetensors");
  const model::SafetensorsFile b(d / "two" / "checkpoint" / "model.safetensors");
  ASSERT_EQ(a.names(), b.names());
  // Tolerance: the same sums in another order (per-rank partial sums, then all-reduce),
  // fp32, over 8 AdamW steps at lr 1e-2.
  for (const std::string& n : a.names()) EXPECT_LE((a.tensor(n) - b.tensor(n)).abs().max().item<double>(), 1e-5) << n;
  std::ifstream oj(d / "one" / "train.json");
  const nlohmann::json one = nlohmann::json::parse(oj);
  ASSERT_EQ(one["loss_curve"].size(), j["loss_curve"].size());
  for (size_t i = 0; i < j["loss_curve"].size(); ++i)
    EXPECT_NEAR(one["loss_curve"][i]["loss"].get<double>(), j["loss_curve"][i]["loss"].get<double>(), 1e-5) << i;
}

}  // namespace
}  // namespace lnb::training
