// See step_graph.h. The CUDA half compiles only where the CUDA toolkit is (LNB_CUDA).
#include "model/step_graph.h"

#include <stdexcept>

#if defined(LNB_WITH_CUDA_SOURCES)
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace lnb::model {

#if defined(LNB_WITH_CUDA_SOURCES)
struct StepGraph::Impl {
  at::cuda::CUDAGraph graph;
};
bool StepGraph::available() { return true; }
void StepGraph::capture(const std::function<void()>& step, int warmup) {
  auto impl = std::make_unique<Impl>();
  const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
  const c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream();
  side.synchronize();
  current.synchronize();
  {
    const c10::cuda::CUDAStreamGuard guard(side);
    for (int i = 0; i < warmup; ++i) step();
    side.synchronize();
    impl->graph.capture_begin();
    step();
    impl->graph.capture_end();
  }
  side.synchronize();
  impl_ = std::move(impl);
}
void StepGraph::replay() {
  if (!impl_) throw std::logic_error("StepGraph::replay before capture");
  impl_->graph.replay();
}
#else
struct StepGraph::Impl {};
bool StepGraph::available() { return false; }
void StepGraph::capture(const std::function<void()>&, int) {
  throw std::runtime_error("CUDA graphs: this lnbench was built without CUDA sources (LNB_CUDA=OFF)");
}
void StepGraph::replay() { throw std::logic_error("StepGraph::replay before capture"); }
#endif

StepGraph::StepGraph() = default;
StepGraph::~StepGraph() = default;

}  // namespace lnb::model
