#include <gtest/gtest.h>

#include <torch/cuda.h>

#include "model/runtime_info.h"
#include "model/selfcheck.h"

namespace lnb::model {
namespace {

TEST(RuntimeInfo, ReportsThePinnedTorchAndItsCudaBuild) {
  const RuntimeInfo info = runtime_info();
  EXPECT_EQ(info.torch_version, "2.11.0");
  EXPECT_TRUE(info.cuda_compiled) << "the PyPI wheel is a CUDA build; libtorch_cuda must be linked";
  EXPECT_EQ(info.cuda_available, torch::cuda::is_available());
  EXPECT_EQ(info.opencv_version.substr(0, 2), "4.");
  EXPECT_FALSE(info.sentencepiece_version.empty());
}

TEST(SelfCheck, EveryDependencyPasses) {
  for (const CheckResult& r : run_selfcheck()) EXPECT_TRUE(r.ok) << r.name << ": " << r.detail;
}

}  // namespace
}  // namespace lnb::model
