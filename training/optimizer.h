// AdamW as the trainer builds it: two parameter groups (decayed; excluded by name
// pattern with weight decay 0), HF adamw_torch hyper-parameters. Separate from the
// trainer so the optimizer can be checked against torch.optim.AdamW on its own.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/optim/adamw.h>

#include "training/trainer.h"

namespace lnb::training {

std::unique_ptr<torch::optim::AdamW> make_adamw(const std::vector<std::pair<std::string, at::Tensor>>& params,
                                                const OptimOptions& o);

// Sets every group's rate to o.lr * multiplier.
void set_lr(torch::optim::AdamW& opt, double lr);

}  // namespace lnb::training
