// The trainer against its references: torch.optim.AdamW + transformers' cosine schedule,
// LLaVA's label masking, the strategies' tensor sets, activation checkpointing vs plain
// backward, resume, divergence handling, the counting allocator.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <fstream>

#include "model/fingerprint.h"
#include "model/loader.h"
#include "model/safetensors.h"
#include "tests/training/train_fixture.h"
#include "training/accounting.h"
#include "training/checkpoint.h"
#include "training/data.h"
#include "training/distributed.h"
#include "training/memory.h"
#include "training/optimizer.h"

namespace lnb::training {
namespace {

namespace fs = std::filesystem;

bool bit_equal(const at::Tensor& a, const at::Tensor& b) { return a.sizes() == b.sizes() && at::equal(a, b); }

TEST(AdamW, FiveStepsEqualTorchOptimAdamWUnderTheHfCosineSchedule) {
  const fs::path d = test::make_temp_dir("lnb-adamw");
  ASSERT_EQ(test::run_oracle("adamw " + (d / "ref.safetensors").string(), d / "oracle.log"), "");
  const model::SafetensorsFile ref(d / "ref.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> params;
  for (const char* n : {"a.weight", "b.norm.weight", "c.bias"})
    params.emplace_back(n, ref.tensor(std::string("init.") + n).clone().set_requires_grad(true));
  OptimOptions o;
  o.lr = 1e-2;
  o.weight_decay = 0.1;  // a.weight decays; "norm" and "bias" are excluded by default
  auto opt = make_adamw(params, o);
  const at::Tensor mults = ref.tensor("multipliers");
  for (int64_t step = 0; step < 5; ++step) {
    EXPECT_NEAR(lr_multiplier(step, 10, 0.3), mults[step].item<double>(), 1e-12) << step;
    for (auto& [name, p] : params) p.mutable_grad() = ref.tensor("grad." + name + "." + std::to_string(step));
    set_lr(*opt, o.lr * lr_multiplier(step, 10, 0.3));
    opt->step();
  }
  const at::Tensor floored = ref.tensor("multipliers_min_lr_0.1");
  for (int64_t step = 0; step < 10; ++step)
    EXPECT_NEAR(lr_multiplier(step, 10, 0.3, 0.1), floored[step].item<double>(), 1e-12) << "min_lr_rate 0.1, step " << step;
  for (auto& [name, p] : params) {
    const double diff = (p.detach() - ref.tensor("final." + name)).abs().max().item<double>();
    EXPECT_LE(diff, 1e-6) << name;
    EXPECT_FALSE(bit_equal(p.detach(), ref.tensor("init." + name))) << name << " did not move";
  }
}

class LabelMasking : public ::testing::TestWithParam<std::string> {};

TEST_P(LabelMasking, EqualsLlavaPreprocess) {
  const fs::path d = test::make_temp_dir("lnb-labels");
  const fs::path data = test::write_tiny_data(d);
  const fs::path tok_file = test::tiny_model() / "tokenizer.model";
  ASSERT_EQ(test::run_oracle("labels " + data.string() + " " + tok_file.string() + " " + GetParam() + " " +
                                 (d / "labels.json").string(),
                             d / "oracle.log"),
            "");
  std::ifstream in(d / "labels.json");
  const nlohmann::json ref = nlohmann::json::parse(in);
  const model::Tokenizer tok(tok_file);
  const auto convs = read_conversations(data);
  ASSERT_EQ(convs.size(), ref.size());
  int64_t supervised = 0;
  for (size_t i = 0; i < convs.size(); ++i) {
    const TokenizedSample s = tokenize_conversation(convs[i], model::chat_template(GetParam()), tok);
    EXPECT_EQ(s.ids, ref[i]["input_ids"].get<std::vector<int64_t>>()) << convs[i].id;
    EXPECT_EQ(s.labels, ref[i]["labels"].get<std::vector<int64_t>>()) << convs[i].id;
    EXPECT_FALSE(s.mismatch) << convs[i].id;
    for (int64_t l : s.labels) supervised += l != kIgnore;
  }
  EXPECT_GT(supervised, 0);  // the masks leave the answers to learn
}

INSTANTIATE_TEST_SUITE_P(Templates, LabelMasking, ::testing::Values("vicuna_v1", "llava_llama_2", "plain"));

TEST(TrainData, BadInputNamesFileSampleAndField) {
  const fs::path d = test::make_temp_dir("lnb-baddata");
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    std::ofstream(d / "bad.json") << text;
    try {
      read_conversations(d / "bad.json");
      ADD_FAILURE() << "no error for " << text;
    } catch (const TrainDataError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("bad.json"), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
    }
  };
  expect_error("{\"a\": 1}", "expected a JSON list");
  expect_error("[{\"id\": \"x\", \"conversations\": [{\"from\": \"bot\", \"value\": \"hi\"}]}]", "conversations[0].from");
  expect_error("[{\"id\": \"x\", \"conversations\": [{\"from\": \"human\", \"value\": \"q\"}]}]", "sample 0 (id \"x\")");
  expect_error("[{\"id\": \"x\", \"image\": 3, \"conversations\": []}]", "image");
  expect_error("[{\"conversations\": [{\"from\": \"human\", \"value\": \"<image> q\"}, {\"from\": \"gpt\", \"value\": \"a\"}]}]",
               "no image");
  expect_error("[1, 2", "expected valid JSON");
}

struct StrategyRun {
  nlohmann::json report;
  model::LlavaModel trained{nullptr};
};

StrategyRun train_tiny(const fs::path& dir, const std::string& strategy, const std::function<void(TrainOptions&)>& edit = {}) {
  TrainOptions o = test::tiny_options(dir, strategy);
  if (edit) edit(o);
  Dist single(DistEnv{}, c10::Device(c10::kCPU));
  StrategyRun r;
  r.report = train(o, single, {}, &r.trained);
  return r;
}

TEST(Trainer, EachStrategyChangesExactlyTheTensorsItNames) {
  const fs::path d = test::make_temp_dir("lnb-strategies");
  model::LoadOptions lo;
  lo.load_tokenizer = false;
  const model::LoadedModel base = model::load_model(test::tiny_model(), lo);
  auto base_params = base.model->named_parameters();
  for (const Strategy& s : builtin_strategies()) {
    SCOPED_TRACE(s.name);
    const StrategyRun r = train_tiny(d, s.name);
    int64_t changed = 0, frozen = 0;
    for (const auto& item : r.trained->named_parameters()) {
      const std::string& name = item.key();
      const bool injected = name.find(".lora_") != std::string::npos || name.find("_adapter.") != std::string::npos ||
                            name.rfind("llm.prefix.", 0) == 0;
      if (injected) {
        EXPECT_TRUE(s.injects()) << name;
        EXPECT_TRUE(trains(s, name)) << name << " injected by a strategy that does not train it";
        EXPECT_TRUE(item.value().requires_grad()) << name;
        ++changed;
        continue;
      }
      const at::Tensor* b = base_params.find(name);
      ASSERT_NE(b, nullptr) << name;
      if (trains(s, name)) {
        EXPECT_FALSE(bit_equal(item.value().detach(), *b)) << name << " should have trained";
        ++changed;
      } else {
        EXPECT_TRUE(bit_equal(item.value().detach(), *b)) << name << " should be frozen, bit for bit";
        EXPECT_FALSE(item.value().grad().defined()) << name << " has a gradient buffer";
        ++frozen;
      }
    }
    EXPECT_GT(changed, 0);
    // train.json equals the table-derived count (`lnbench params`) and the delta holds
    // exactly the trained tensors.
    LoraSpec lora;
    lora.rank = 4;
    const ParamCounts expect = count_params(base.config, s, lora);
    EXPECT_EQ(r.report["trainable_params"].get<int64_t>(), expect.trainable);
    EXPECT_EQ(r.report["total_params"].get<int64_t>(), expect.total());
    const model::SafetensorsFile delta(d / s.name / "checkpoint" / "model.safetensors");
    int64_t delta_numel = 0;
    for (const std::string& n : delta.names()) delta_numel += delta.tensor(n).numel();
    EXPECT_EQ(delta_numel, expect.trainable);
    EXPECT_GT(r.report["peak_train_memory_bytes"].get<int64_t>(), 0);
    EXPECT_GE(r.report["optimizer_state_bytes"].get<int64_t>(), 2 * 4 * expect.trainable);
  }
}

TEST(Trainer, LossFallsOnATinyDataset) {
  const fs::path d = test::make_temp_dir("lnb-loss");
  const StrategyRun r = train_tiny(d, "ln", [](TrainOptions& o) {
    o.epochs = 4;
    o.save_final = false;  // --no-checkpoint: measure only
  });
  EXPECT_TRUE(fs::exists(d / "ln" / "train.json"));
  EXPECT_FALSE(fs::exists(d / "ln" / "checkpoint")) << "--no-checkpoint wrote a checkpoint";
  EXPECT_EQ(r.report["checkpoint_bytes"].get<int64_t>(), 0);
  const auto& curve = r.report["loss_curve"];
  ASSERT_EQ(curve.size(), 16u);
  double first = 0, last = 0;
  for (size_t i = 0; i < 4; ++i) first += curve[i]["loss"].get<double>(), last += curve[12 + i]["loss"].get<double>();
  EXPECT_LT(last, 0.9 * first) << "first epoch " << first / 4 << ", last " << last / 4;
}

TEST(Trainer, CheckpointRoundTripRestoresTheTrainedModel) {
  const fs::path d = test::make_temp_dir("lnb-roundtrip");
  for (const char* strategy : {"lora", "ln"}) {
    SCOPED_TRACE(strategy);
    const StrategyRun r = train_tiny(d, strategy);
    model::LoadOptions lo;
    model::LoadedModel m = model::load_model(test::tiny_model(), lo);
    const nlohmann::json meta = apply_delta(m, d / strategy / "checkpoint");
    EXPECT_EQ(meta["schema"], "lnbench.checkpoint/1");
    EXPECT_EQ(meta["base_model"]["fingerprint"], model::model_fingerprint(test::tiny_model()));
    auto loaded = m.model->named_parameters();
    int64_t n = 0;
    for (const auto& item : r.trained->named_parameters()) {
      const at::Tensor* p = loaded.find(item.key());
      ASSERT_NE(p, nullptr) << item.key();
      EXPECT_TRUE(bit_equal(*p, item.value().detach())) << item.key();
      ++n;
    }
    EXPECT_EQ(n, static_cast<int64_t>(loaded.size()));
  }
}

// One forward/backward of the tiny model on a fixed batch; returns every gradient.
std::map<std::string, at::Tensor> gradients(bool checkpointing, const std::string& strategy) {
  model::LoadOptions lo;
  model::LoadedModel m = model::load_model(test::tiny_model(), lo);
  const Strategy& s = find_strategy(strategy);
  at::manual_seed(3);
  LoraSpec spec;
  spec.rank = 4;
  spec.dropout = 0.3;  // the recompute must replay the dropout masks
  PrefixSpec prefix;
  prefix.length = 3;
  prefix.projection = 6;  // the recompute must reach the prefix encoder's MLP through every layer
  AdapterSpec adapter;
  adapter.reduction = 8;
  inject_modules(m.model, s, spec, adapter, prefix);
  {
    torch::NoGradGuard ng;  // trained-looking adapters: the identity init would zero some gradients
    for (auto& item : m.model->named_parameters())
      if (item.key().find("adapter_up") != std::string::npos) item.value().normal_(0.0, 0.2);
  }
  for (auto& item : m.model->named_parameters()) item.value().set_requires_grad(trains(s, item.key()));
  m.model->train();
  m.model->llm->gradient_checkpointing = checkpointing;
  at::manual_seed(11);
  const int64_t V = m.config.text.vocab_size;
  const at::Tensor ids = at::randint(3, 300, {2, 12}, at::kLong);
  const at::Tensor positions = at::arange(12, at::kLong).repeat({2, 1});
  const at::Tensor no_image = at::zeros({2, 12}, at::kBool);
  const at::Tensor logits = m.model->logits(m.model->embed(ids, no_image, {}), {positions, {}}, nullptr);
  const at::Tensor loss = at::cross_entropy_loss(logits.narrow(1, 0, 11).reshape({-1, V}), ids.narrow(1, 1, 11).reshape({-1}));
  loss.backward();
  std::map<std::string, at::Tensor> g;
  for (const auto& item : m.model->named_parameters())
    if (item.value().grad().defined()) g[item.key()] = item.value().grad().clone();
  return g;
}

class Checkpointing : public ::testing::TestWithParam<std::string> {};

TEST_P(Checkpointing, RecomputedGradientsEqualPlainOnes) {
  const auto plain = gradients(false, GetParam());
  const auto recomputed = gradients(true, GetParam());
  ASSERT_EQ(plain.size(), recomputed.size());
  ASSERT_FALSE(plain.empty());
  double largest = 0;
  for (const auto& [name, g] : plain) {
    ASSERT_TRUE(recomputed.count(name)) << name;
    EXPECT_LE((g - recomputed.at(name)).abs().max().item<double>(), 1e-6) << name;
    largest = std::max(largest, g.abs().max().item<double>());
  }
  EXPECT_GT(largest, 0.0);
}

// full: inputs need grad through every layer; lora: dropout inside the recompute;
// ln-simple: the embeddings are frozen, so the first layer's input needs no grad; mam and
// prefix+ln: the prefix encoder is shared by every recomputed layer; houlsby-style adapters
// sit inside the recomputed block.
INSTANTIATE_TEST_SUITE_P(Strategies, Checkpointing, ::testing::Values("full", "lora", "ln-simple", "mam", "prefix+ln",
                                                                      "adapter", "ln-attn"));

class Resume : public ::testing::TestWithParam<std::string> {};

TEST_P(Resume, AfterACrashEqualsAnUninterruptedRun) {
  const std::string strategy = GetParam();
  const fs::path d = test::make_temp_dir("lnb-resume");
  auto edit = [](TrainOptions& o) {
    o.save_every = 2;
    o.resume = true;
    o.prefix.length = 4;
    o.prefix.projection = 8;  // the MLP's weights and optimizer state resume too
    o.adapter.placement = "houlsby";
  };
  train_tiny(d / "whole", strategy, edit);
  TrainOptions o = test::tiny_options(d / "crashed", strategy);
  edit(o);
  Dist single(DistEnv{}, c10::Device(c10::kCPU));
  EXPECT_THROW(train(o, single, [](const StepRecord& r, int64_t) {
                 if (r.step == 5) throw std::runtime_error("simulated crash");
               }),
               std::runtime_error);
  const model::SafetensorsFile partial(d / "crashed" / strategy / "checkpoint" / "model.safetensors");
  int64_t resumed_from = -1;
  const nlohmann::json j = train(o, single, [&](const StepRecord& r, int64_t) {
    if (resumed_from < 0) resumed_from = r.step;
  });
  EXPECT_EQ(resumed_from, 5);  // the checkpoint of step 4, not a restart
  EXPECT_EQ(j["loss_curve"].size(), 8u);
  const model::SafetensorsFile a(d / "whole" / strategy / "checkpoint" / "model.safetensors");
  const model::SafetensorsFile b(d / "crashed" / strategy / "checkpoint" / "model.safetensors");
  ASSERT_EQ(a.names(), b.names());
  for (const std::string& n : a.names()) EXPECT_TRUE(bit_equal(a.tensor(n), b.tensor(n))) << n;
}

INSTANTIATE_TEST_SUITE_P(Strategies, Resume, ::testing::Values("ln", "mam", "adapter+ln"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '+' || c == '-') c = '_';
                           return n;
                         });

TEST(Trainer, ANonFiniteLossStopsAndKeepsTheLastGoodCheckpoint) {
  const fs::path d = test::make_temp_dir("lnb-nan");
  try {
    train_tiny(d, "ln", [](TrainOptions& o) {
      o.optim.lr = 1e30;
      o.optim.max_grad_norm = 0;
      o.save_every = 1;
    });
    FAIL() << "training with lr 1e30 did not diverge";
  } catch (const TrainingDiverged& e) {
    EXPECT_NE(std::string(e.what()).find("step 2"), std::string::npos) << e.what();
  }
  std::ifstream in(d / "ln" / "checkpoint" / "meta.json");
  const nlohmann::json meta = nlohmann::json::parse(in);
  EXPECT_EQ(meta["step"], 1);
  const model::SafetensorsFile good(d / "ln" / "checkpoint" / "model.safetensors");
  for (const std::string& n : good.names()) EXPECT_TRUE(at::isfinite(good.tensor(n)).all().item<bool>()) << n;
}

TEST(Memory, CountingAllocatorTracksLiveAndPeakBytes) {
  install_counting_cpu_allocator();
  const c10::Device cpu(c10::kCPU);
  reset_peak_memory(cpu);
  const MemoryReading before = read_memory(cpu);
  EXPECT_STREQ(before.source, "cpu-counting-allocator");
  {
    const at::Tensor t = at::empty({1 << 20}, at::kFloat);  // 4 MiB
    const MemoryReading during = read_memory(cpu);
    EXPECT_EQ(during.live_bytes - before.live_bytes, 4 << 20);
  }
  const MemoryReading after = read_memory(cpu);
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_GE(after.peak_bytes - before.live_bytes, 4 << 20);
  EXPECT_GT(after.peak_rss_bytes, 0);
}

TEST(Distributed, EnvironmentParsing) {
  std::map<std::string, std::string> env = {{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "1"},
                                            {"MASTER_ADDR", "10.0.0.1"}, {"MASTER_PORT", "1234"}};
  auto get = [&](const char* k) -> const char* {
    auto it = env.find(k);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  DistEnv e = dist_env_from(get);
  EXPECT_EQ(e.source, "torchrun");
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.world_size, 2);
  EXPECT_EQ(e.master_addr, "10.0.0.1");
  EXPECT_EQ(e.master_port, 1234);
  env = {{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"}, {"SLURM_LAUNCH_NODE_IPADDR", "10.1.1.1"}};
  e = dist_env_from(get);
  EXPECT_EQ(e.source, "slurm");
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "10.1.1.1");
  env = {{"RANK", "2"}, {"WORLD_SIZE", "2"}};
  EXPECT_THROW(dist_env_from(get), std::invalid_argument);  // rank outside [0, 1]
  env = {{"RANK", "0"}};
  EXPECT_THROW(dist_env_from(get), std::invalid_argument);
}

}  // namespace
}  // namespace lnb::training
