// The one trainer for every strategy (strategy.h): LLaVA data and label masking
// (data.h), AdamW with decay exclusions, HF's cosine schedule with warmup, global-norm
// clipping, gradient accumulation, activation checkpointing of decoder layers
// (model/recompute.h), c10d data parallelism (distributed.h), delta checkpoints with
// resume (checkpoint.h) and measured accounting (memory.h) written to train.json.
//
// Loss normalization: each optimizer step's loss is the sum of token losses over the
// whole global batch (all micro-batches, all ranks) divided by its label-token count, so
// accumulation and data parallelism give the gradient of one big batch exactly (up to
// float summation order) — LLaVA's per-micro-batch means would not.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/llava.h"
#include "training/strategy.h"

namespace lnb::training {

class Dist;

struct OptimOptions {
  double lr = 2e-5;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // HF adamw_torch defaults
  double weight_decay = 0.0;
  // Tensors whose name contains one of these get no weight decay (HF: biases, norms).
  std::vector<std::string> no_decay{"bias", "norm"};
  double warmup_ratio = 0.03;
  double max_grad_norm = 1.0;  // <= 0: no clipping
};

// HF get_cosine_schedule_with_warmup: the multiplier of the base rate at optimizer step
// `step` (0-based) of `total`, with ceil(warmup_ratio * total) warmup steps; with
// min_lr_ratio > 0, get_cosine_with_min_lr_schedule_with_warmup(min_lr_rate): the cosine
// decays to that fraction of the rate instead of 0.
double lr_multiplier(int64_t step, int64_t total, double warmup_ratio, double min_lr_ratio = 0);

struct TrainOptions {
  std::filesystem::path model_dir, vision_tower, data_file, image_dir, out_dir;
  std::filesystem::path init_checkpoint;  // e.g. the stage-1 connector, applied before training
  std::string strategy = "ln";
  LoraSpec lora;
  AdapterSpec adapter;  // adapter, adapter+ln, mam
  PrefixSpec prefix;    // prefix, prefix+ln, mam
  std::string template_name = "vicuna_v1";  // "plain" for LLaVA's pretrain captions
  OptimOptions optim;
  int64_t epochs = 1;
  int64_t max_steps = -1;  // > 0: stop after this many optimizer steps
  int64_t batch_size = 4;  // per rank, per micro-batch
  int64_t grad_accum = 1;
  int64_t max_length = 2048;  // tokens after image expansion
  uint64_t seed = 42;
  bool gradient_checkpointing = false;
  bool tf32 = false;
  std::string dtype = "fp32";   // fp32 | bf16 | fp16 (weights and compute; bf16/fp16 need CUDA)
  std::string device = "cpu";
  int64_t save_every = 0;       // optimizer steps between checkpoints; 0: at the end only
  bool resume = true;           // continue from out_dir/checkpoint when its options match
  bool peft_adapter = true;     // also write checkpoint/peft where a PEFT type fits (peft_form)
  bool save_final = true;       // false: measure only (train.json, no checkpoint at the end)
  nlohmann::json to_json() const;
};

struct StepRecord {
  int64_t step = 0;  // 1-based optimizer step
  double loss = 0, lr = 0, grad_norm = 0, seconds = 0;
  int64_t tokens = 0;  // label tokens in the global batch
};

// Called on rank 0 after every optimizer step (progress bars, JSON events).
using StepCallback = std::function<void(const StepRecord&, int64_t total_steps)>;

class TrainingDiverged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Trains and writes out_dir/checkpoint/ and out_dir/train.json (rank 0). Returns the
// train.json object. Throws TrainDataError on bad data, TrainingDiverged on a non-finite
// loss or gradient (the last good checkpoint stays), std::invalid_argument on bad options.
// `trained`, when given, receives the trained model (tests compare its tensors).
nlohmann::json train(const TrainOptions& options, Dist& dist, const StepCallback& on_step = {},
                     model::LlavaModel* trained = nullptr);

}  // namespace lnb::training
