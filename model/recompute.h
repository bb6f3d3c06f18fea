// Activation checkpointing for LibTorch, which has none built in: run a block without
// keeping its activations, then recompute them during backward (torch.utils.checkpoint's
// "reentrant" variant). The block's trainable parameters are passed in explicitly so the
// recomputed graph's parameter gradients flow back; the RNG state of the forward pass is
// replayed for the recompute, so dropout masks (LoRA) are identical.
//
// Not general: one tensor in, one tensor out; everything else the block reads (rotary
// tables, masks) is captured by the closure and must not require grad.
#pragma once

#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>

namespace lnb::model {

using Block = std::function<at::Tensor(const at::Tensor&)>;

// Equals block(x) in value and in the gradients it gives x and `params`; keeps only x.
at::Tensor recompute_in_backward(const Block& block, const at::Tensor& x, const std::vector<at::Tensor>& params);

}  // namespace lnb::model
