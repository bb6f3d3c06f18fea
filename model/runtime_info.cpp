// Queries LibTorch, the CUDA hooks, NCCL (through the already-loaded libnccl) and
// the build-time versions of OpenCV and sentencepiece.
#include "model/runtime_info.h"

#include <dlfcn.h>

#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <opencv2/core/version.hpp>

#ifdef LNB_WITH_CUDA_SOURCES
#include "model/cuda/cuda_smoke.h"
#endif

namespace lnb::model {
namespace {

// ncclGetVersion from the libnccl that libtorch_cuda pulled in. No CUDA headers
// are needed, so this works in CPU-only builds of lnbench too.
std::string nccl_version() {
  void* handle = dlopen("libnccl.so.2", RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return "";
  using GetVersion = int (*)(int*);
  auto fn = reinterpret_cast<GetVersion>(dlsym(handle, "ncclGetVersion"));
  std::string out;
  int code = 0;
  if (fn != nullptr && fn(&code) == 0 && code > 0) {
    // NCCL >= 2.9 encodes major*10000 + minor*100 + patch.
    out = std::to_string(code / 10000) + "." + std::to_string((code % 10000) / 100) + "." +
          std::to_string(code % 100);
  }
  dlclose(handle);
  return out;
}

}  // namespace

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.torch_version = TORCH_VERSION;
  // Compiled in = libtorch_cuda is loaded (a GPU-less machine has it too).
  if (void* cuda = dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_NOLOAD)) {
    info.cuda_compiled = true;
    dlclose(cuda);  // NOLOAD took a reference
  }
  info.cuda_compiled = info.cuda_compiled || at::hasCUDA();
  info.cuda_available = torch::cuda::is_available();
  info.gpu_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
#ifdef LNB_WITH_CUDA_SOURCES
  if (info.cuda_available) info.gpu_name = cuda_device_name(0);
  info.own_cuda_sources = true;
#endif
  info.nccl_version = nccl_version();
  info.opencv_version = CV_VERSION;
  info.sentencepiece_version = LNB_SENTENCEPIECE_VERSION;
  return info;
}

}  // namespace lnb::model
