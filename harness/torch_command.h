// Shared by the subcommands in the LibTorch plugin (generate, train, run, eval): load
// options from their flags, the exit code of an error, and rank 0's per-step training
// progress. Not for the torch-free commands (harness/cli.h).
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>

#include <c10/util/Exception.h>

#include "common/errors.h"
#include "harness/cli.h"
#include "harness/progress.h"
#include "model/loader.h"
#include "tasks/data_error.h"
#include "training/data.h"
#include "training/trainer.h"

namespace lnb::harness {

inline model::LoadOptions load_options(const std::filesystem::path& vision_tower, const std::string& dtype,
                                       const c10::Device& device) {
  model::LoadOptions lo;
  lo.vision_tower = vision_tower;
  lo.dtype = model::parse_dtype(dtype);
  lo.device = device;
  return lo;
}

// Bad data, options or model files are bad input (2); anything else, a failed run (1).
inline int exit_code_for(const std::exception& e) {
  if (dynamic_cast<const common::EnvironmentError*>(&e) != nullptr) return kExitFailure;  // disk, device
  const bool bad_input = dynamic_cast<const training::TrainDataError*>(&e) != nullptr ||
                         dynamic_cast<const model::ImageError*>(&e) != nullptr ||
                         dynamic_cast<const tasks::DataError*>(&e) != nullptr ||
                         dynamic_cast<const std::invalid_argument*>(&e) != nullptr ||
                         dynamic_cast<const model::ModelLoadError*>(&e) != nullptr;
  return bad_input ? kExitBadInput : kExitFailure;
}

// The message of an error without LibTorch's C++ backtrace (c10::Error appends one).
inline std::string error_text(const std::exception& e) {
  if (const auto* c10e = dynamic_cast<const c10::Error*>(&e)) return c10e->what_without_backtrace();
  return e.what();
}

// Rank 0's report after each optimizer step (harness/progress.h).
class StepProgress {
 public:
  StepProgress(bool quiet, const std::string& label) : bar_(quiet, label, "train_step", "step") {}
  void operator()(const training::StepRecord& r, int64_t total) {
    elapsed_ += r.seconds;
    char text[64];
    std::snprintf(text, sizeof text, "loss %.4f  lr %.2e", r.loss, r.lr);
    bar_.update(r.step, total, elapsed_, text,
                {{"step", r.step}, {"total_steps", total}, {"loss", r.loss}, {"lr", r.lr}, {"grad_norm", r.grad_norm},
                 {"tokens", r.tokens}, {"step_seconds", r.seconds}});
  }

 private:
  Progress bar_;
  double elapsed_ = 0;
};

}  // namespace lnb::harness
