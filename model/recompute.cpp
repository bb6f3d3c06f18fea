// See recompute.h. A custom autograd Function: forward runs the block under no-grad and
// saves x and the RNG state; backward re-runs it with grad enabled on a detached copy
// of x and asks autograd for d(out)/d(x, params).
#include "model/recompute.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/autograd.h>

namespace lnb::model {
namespace {

struct RngState {
  at::Tensor cpu;
  at::Tensor cuda;  // undefined unless x is on CUDA
};

RngState save_rng(const at::Device& device) {
  RngState s;
  at::Generator cpu = at::detail::getDefaultCPUGenerator();
  s.cpu = cpu.get_state();
  if (device.is_cuda()) {
    at::Generator cuda = at::globalContext().defaultGenerator(device);
    s.cuda = cuda.get_state();
  }
  return s;
}

void restore_rng(const RngState& s, const at::Device& device) {
  at::Generator cpu = at::detail::getDefaultCPUGenerator();
  cpu.set_state(s.cpu);
  if (s.cuda.defined()) {
    at::Generator cuda = at::globalContext().defaultGenerator(device);
    cuda.set_state(s.cuda);
  }
}

struct BlockHolder : torch::CustomClassHolder {
  explicit BlockHolder(Block b) : fn(std::move(b)) {}
  Block fn;  // owns the closure: the caller's std::function is gone by backward time
};

struct Recompute : torch::autograd::Function<Recompute> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, at::TensorList params,
                            const Block* block) {
    const RngState rng = save_rng(x.device());
    ctx->saved_data["rng_cpu"] = rng.cpu;
    if (rng.cuda.defined()) ctx->saved_data["rng_cuda"] = rng.cuda;
    ctx->saved_data["block"] = c10::IValue::make_capsule(c10::make_intrusive<BlockHolder>(*block));
    std::vector<at::Tensor> saved{x};
    saved.insert(saved.end(), params.begin(), params.end());
    ctx->save_for_backward(saved);
    return (*block)(x);  // Function::apply runs this with grad disabled: nothing is kept
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const std::vector<at::Tensor> saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const auto holder = c10::static_intrusive_pointer_cast<BlockHolder>(ctx->saved_data["block"].toCapsule());
    RngState replay;
    replay.cpu = ctx->saved_data["rng_cpu"].toTensor();
    if (ctx->saved_data.count("rng_cuda")) replay.cuda = ctx->saved_data["rng_cuda"].toTensor();
    const RngState current = save_rng(x.device());
    restore_rng(replay, x.device());
    const at::Tensor x_leaf = x.detach().requires_grad_(x.requires_grad());
    at::Tensor out;
    {
      at::AutoGradMode enable(true);
      out = holder->fn(x_leaf);
    }
    restore_rng(current, x.device());

    // Gradients for x and the parameters that need them; undefined for the rest and for
    // the block pointer argument.
    std::vector<at::Tensor> wrt;
    std::vector<size_t> slot;  // position in the result of each wrt entry
    for (size_t i = 0; i < saved.size(); ++i) {
      const at::Tensor& t = i == 0 ? x_leaf : saved[i];
      if (t.requires_grad()) {
        wrt.push_back(t);
        slot.push_back(i);
      }
    }
    torch::autograd::variable_list result(saved.size() + 1);
    if (wrt.empty() || !out.requires_grad()) return result;
    const torch::autograd::variable_list grads =
        torch::autograd::grad({out}, wrt, {grad_out[0]}, /*retain_graph=*/false, /*create_graph=*/false,
                              /*allow_unused=*/true);
    for (size_t j = 0; j < wrt.size(); ++j) result[slot[j]] = grads[j];
    return result;
  }
};

}  // namespace

at::Tensor recompute_in_backward(const Block& block, const at::Tensor& x, const std::vector<at::Tensor>& params) {
  return Recompute::apply(x, at::TensorList(params), &block);  // a TensorList: each tensor an input
}

}  // namespace lnb::model
