// See cuda_smoke.h. Plain CUDA runtime API: no torch headers, so nvcc stays fast.
#include "model/cuda/cuda_smoke.h"

#include <cuda_runtime.h>

#include <stdexcept>

namespace lnb::model {
namespace {

__global__ void saxpy_kernel(int n, float a, const float* x, float* y) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA call ") + what + " failed: " + cudaGetErrorString(err));
  }
}

}  // namespace

std::vector<float> cuda_saxpy(int device, float a, const std::vector<float>& x,
                              const std::vector<float>& y) {
  if (x.size() != y.size()) throw std::invalid_argument("cuda_saxpy: x and y differ in size");
  const int n = static_cast<int>(x.size());
  check(cudaSetDevice(device), "cudaSetDevice");
  float* dx = nullptr;
  float* dy = nullptr;
  const size_t bytes = x.size() * sizeof(float);
  check(cudaMalloc(&dx, bytes), "cudaMalloc(x)");
  check(cudaMalloc(&dy, bytes), "cudaMalloc(y)");
  std::vector<float> out(y.size());
  try {
    check(cudaMemcpy(dx, x.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy(x)");
    check(cudaMemcpy(dy, y.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy(y)");
    saxpy_kernel<<<(n + 255) / 256, 256>>>(n, a, dx, dy);
    check(cudaGetLastError(), "saxpy_kernel launch");
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    check(cudaMemcpy(out.data(), dy, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy(out)");
  } catch (...) {
    cudaFree(dx);
    cudaFree(dy);
    throw;
  }
  cudaFree(dx);
  cudaFree(dy);
  return out;
}

std::string cuda_device_name(int device) {
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) return "";
  return prop.name;
}

}  // namespace lnb::model
