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

INSTANTIATE_TEST_SUITE_P(Kinds, PeftIn, ::testing::Values("lora", "rslora", "ln"));

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
