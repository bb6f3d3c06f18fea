#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

TEST(Linking, StdFilesystemIsTheToolchainsNotLibTorchsCopy) {
  // The wheel's libtorch.so exports std::filesystem symbols; before the link fix our
  // calls bound to them and remove_all on a non-empty folder crashed (TorchImport.cmake).
  namespace fs = std::filesystem;
  const fs::path d = fs::temp_directory_path() / "lnb_link_fs_test";
  fs::create_directories(d / "a" / "b");
  std::ofstream(d / "a" / "b" / "f.txt") << "x";
  EXPECT_GE(fs::remove_all(d), 3u);
  EXPECT_FALSE(fs::exists(d));
}

TEST(SelfCheck, EveryDependencyPasses) {
  for (const CheckResult& r : run_selfcheck()) EXPECT_TRUE(r.ok) << r.name << ": " << r.detail;
}

}  // namespace
}  // namespace lnb::model
