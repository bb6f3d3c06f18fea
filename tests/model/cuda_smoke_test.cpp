// Our own CUDA kernel and LibTorch's CUDA path; runs only where a GPU exists.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/cuda.h>

#ifdef LNB_WITH_CUDA_SOURCES
#include "model/cuda/cuda_smoke.h"
#endif

namespace lnb::model {
namespace {

TEST(CudaSmoke, OwnKernelComputesSaxpy) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU on this machine";
#ifdef LNB_WITH_CUDA_SOURCES
  std::vector<float> x(1000), y(1000);
  for (int i = 0; i < 1000; ++i) x[i] = static_cast<float>(i), y[i] = 1.0f;
  const auto out = cuda_saxpy(0, 3.0f, x, y);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(out[i], 3.0f * static_cast<float>(i) + 1.0f);
  EXPECT_FALSE(cuda_device_name(0).empty());
#else
  GTEST_SKIP() << "built without lnbench's CUDA sources (LNB_CUDA off or no toolkit)";
#endif
}

TEST(CudaSmoke, TorchMatmulOnTheGpuMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU on this machine";
  at::manual_seed(0);
  const at::Tensor a = at::randn({128, 128}, at::kDouble);
  const at::Tensor gpu = at::matmul(a.cuda(), a.cuda()).cpu();
  EXPECT_LT((gpu - at::matmul(a, a)).abs().max().item<double>(), 1e-9);
}

}  // namespace
}  // namespace lnb::model
