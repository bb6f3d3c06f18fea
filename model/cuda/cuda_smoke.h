// A tiny CUDA kernel compiled with lnbench's own nvcc settings (LNB_CUDA). It proves
// that our .cu files build and link against the wheel's CUDA runtime here, and that
// they run where a GPU exists (tests/model/cuda_smoke_test.cpp).
#pragma once

#include <string>
#include <vector>

namespace lnb::model {

// y[i] = a * x[i] + y[i] on GPU `device`; returns y. Throws std::runtime_error on a
// CUDA error (message names the call).
std::vector<float> cuda_saxpy(int device, float a, const std::vector<float>& x,
                              const std::vector<float>& y);

// The device's name from cudaGetDeviceProperties, or "" if the query fails.
std::string cuda_device_name(int device);

}  // namespace lnb::model
