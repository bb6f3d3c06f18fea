// Measured memory, not estimates. On CUDA: the caching allocator's peak of allocated
// bytes. On CPU: a counting allocator installed as LibTorch's CPU allocator (the same
// alloc_cpu/free_cpu underneath, plus a size table) gives the peak of live tensor bytes;
// peak RSS (getrusage) is reported beside it because it also covers the framework.
#pragma once

#include <cstdint>

#include <c10/core/Device.h>

namespace lnb::training {

// Installs the counting CPU allocator once (idempotent); tensors allocated before are
// not counted, so install before loading the model.
void install_counting_cpu_allocator();
bool counting_cpu_allocator_installed();

struct MemoryReading {
  int64_t live_bytes = 0;  // tensors alive now (CPU counter or CUDA allocator)
  int64_t peak_bytes = 0;  // peak since the last reset
  int64_t peak_rss_bytes = 0;  // process peak resident set (whole lifetime)
  const char* source = "";     // "cpu-counting-allocator" | "cuda-caching-allocator" | "none"
};

MemoryReading read_memory(const c10::Device& device);
void reset_peak_memory(const c10::Device& device);  // peak := live

}  // namespace lnb::training
