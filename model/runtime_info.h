// What this lnbench binary runs on: LibTorch, CUDA, NCCL, OpenCV, sentencepiece.
// Used by `lnbench --version`, the self-check and run metadata. Reads nothing from
// disk and never throws; a component that cannot be queried reports "unknown".
#pragma once

#include <string>

namespace lnb::model {

struct RuntimeInfo {
  std::string torch_version;          // e.g. "2.11.0"
  bool cuda_compiled = false;         // libtorch_cuda is linked and its hooks loaded
  bool cuda_available = false;        // a usable GPU and driver are present
  int gpu_count = 0;
  std::string gpu_name;               // first GPU, empty without one
  std::string nccl_version;           // "2.28.9", or empty when NCCL is not loaded
  std::string opencv_version;
  std::string sentencepiece_version;  // from pkg-config at configure time
  bool own_cuda_sources = false;      // lnbench's own .cu files (LNB_CUDA) built in
};

RuntimeInfo runtime_info();

}  // namespace lnb::model
