// A CUDA graph around one callable (the static decode step): capture once, replay many
// times. The callable must have fixed shapes and read/write only tensors whose storage
// outlives the graph (their addresses are baked in). Where lnbench was built without
// CUDA sources, available() is false and capture() throws.
#pragma once

#include <functional>
#include <memory>

namespace lnb::model {

class StepGraph {
 public:
  StepGraph();
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  static bool available();
  // Runs `step` `warmup` times eagerly on a side stream (allocator and cuBLAS
  // workspaces settle), then once under capture. The warm-up runs change the tensors the
  // step writes: capture before the real inputs are written.
  void capture(const std::function<void()>& step, int warmup = 2);
  void replay();
  bool captured() const { return impl_ != nullptr; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lnb::model
