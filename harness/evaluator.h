// The evaluator of `lnbench run` and `lnbench eval` (DESIGN.md "Data flow"):
//
//  - Requests are ordered by image group and cut into fixed batches over the whole task
//    (same settings per batch). Every answer is always decoded in the same batch, so a
//    resumed run, or one sharded over N ranks (contiguous ranges of batches), gives the
//    same answers as one uninterrupted process.
//  - CLIP features are computed once per image, the missing images of a batch through
//    the tower together (at most vision_batch at a time), and kept in memory and on disk
//    under a key of (vision weights, preprocessing, dtype, device type, image content):
//    every strategy freezes the vision tower, so they are shared by tasks, strategies
//    and nights.
//  - Prompt prefixes are computed once (model/prefix_cache.h): the task-wide text
//    prefix once per task and model/delta, each image's prefix once for all of its
//    questions; each request prefills only its own suffix. The plan, and so every
//    answer, depends only on the task, the settings and the batch plan, so resume and
//    sharding stay exact. eval.json counts the prefill positions computed and reused.
//  - Each answer is appended to samples.jsonl (rank k > 0: samples.rank<k>.jsonl) and
//    fsync'd before the next; a restart skips answered requests. When all are answered,
//    rank 0 scores them and atomically rewrites samples.jsonl (request order, scored),
//    then writes metrics.json (deterministic: what one process would write) and
//    eval.json (throughput, memory, feature-cache use, the batch-invariance check).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "harness/feature_cache.h"
#include "model/loader.h"
#include "model/sampling.h"
#include "tasks/task.h"
#include "training/distributed.h"

namespace lnb::harness {

struct EvalSettings {
  int64_t batch_size = 8;
  int64_t batch_check = 4;              // requests re-decoded at batch 1, unshared (rank 0)
  std::filesystem::path feature_cache;  // empty: memory only
  std::string template_name = "vicuna_v1";
  bool prefix_sharing = true;           // shared prompt prefixes (model/prefix_cache.h)
  int64_t prefix_cache_mb = 4096;       // the most prefix KV alive at once; the plan shares less beyond it
  int64_t vision_batch = 8;             // images through the vision tower together
  bool fold_lora = true;                // the caller folded a LoRA delta into the weights (part of the answers' key)
  std::string cuda_graphs = "auto";     // auto (= on for CUDA) | on | off
  model::SamplingOptions sampling;      // greedy by default; a request's draws are keyed by task/id
  int64_t min_new_tokens = 0;
  // Task folders of earlier nights (`lnbench run`, reuse_answers): one answered under the
  // same key is copied instead of decoded again (samples, submission, eval.json, metrics).
  std::function<std::vector<std::filesystem::path>(const std::filesystem::path& dir)> reuse_candidates;
  // What the answers depend on besides the task and these settings (model and delta
  // fingerprints). A task folder answered under another identity is moved aside to
  // stale-<n>/ and redone, never silently resumed.
  std::string identity;
};

// sha256 of what vision features depend on: the vision tower's tensors, the feature
// layer, the preprocessing, the dtype and the device type.
std::string vision_key(const model::LoadedModel& m);

// The vision-feature cache's default folder: $XDG_CACHE_HOME or ~/.cache, /lnbench/features.
std::filesystem::path default_feature_cache();

// EvalSettings::identity for a base model folder and an optional checkpoint (folder or
// safetensors file): the model's fingerprint and the delta's digest.
std::string answers_identity(const std::filesystem::path& model_dir, const std::filesystem::path& checkpoint);

// Called on rank 0 after each answered batch: (answered so far, total, seconds so far).
using EvalProgress = std::function<void(int64_t done, int64_t total, double seconds)>;

class Evaluator {
 public:
  Evaluator(model::LoadedModel& m, training::Dist& dist, EvalSettings settings);
  // Answers the requests of `task` not yet answered under `dir`, then (rank 0) scores and
  // writes samples.jsonl, metrics.json and eval.json. Returns eval.json's content
  // (rank 0; other ranks: their own counts). A task whose metrics.json exists is done.
  nlohmann::ordered_json evaluate(const tasks::Task& task, const std::filesystem::path& dir, const EvalProgress& progress);
  void set_identity(std::string identity) { s_.identity = std::move(identity); }

 private:
  model::LoadedModel& m_;
  training::Dist& dist_;
  EvalSettings s_;
  FeatureCache cache_;
};

}  // namespace lnb::harness
