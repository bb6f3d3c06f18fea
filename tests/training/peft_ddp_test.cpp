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
  if (kind != "lora") {  // PEFT's count includes modules_to_save's copies beside the originals
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

INSTANTIATE_TEST_SUITE_P(Kinds, PeftIn, ::testing::Values("lora", "rslora", "patterns", "ln"));

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
