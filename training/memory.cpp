// See memory.h. The counting allocator keeps data == context like LibTorch's default
// CPU allocator, so raw_allocate/raw_deallocate keep working.
#include "training/memory.h"

#include <sys/resource.h>

#include <atomic>
#include <mutex>
#include <unordered_map>

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#ifdef LNB_WITH_CUDA_SOURCES
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace lnb::training {
namespace {

class CountingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) override {
    void* p = c10::alloc_cpu(n);
    {
      std::lock_guard<std::mutex> lock(mu_);
      sizes_[p] = n;
      live_ += static_cast<int64_t>(n);
      if (live_ > peak_) peak_ = live_;
    }
    return {p, p, &CountingCpuAllocator::deleter, c10::Device(c10::kCPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &CountingCpuAllocator::deleter; }
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }

  static void deleter(void* p) {
    if (p == nullptr) return;
    CountingCpuAllocator& self = instance();
    {
      std::lock_guard<std::mutex> lock(self.mu_);
      auto it = self.sizes_.find(p);
      if (it != self.sizes_.end()) {
        self.live_ -= static_cast<int64_t>(it->second);
        self.sizes_.erase(it);
      }
    }
    c10::free_cpu(p);
  }
  static CountingCpuAllocator& instance() {
    static auto* a = new CountingCpuAllocator();  // never destroyed: tensors may outlive statics
    return *a;
  }
  int64_t live() {
    std::lock_guard<std::mutex> lock(mu_);
    return live_;
  }
  int64_t peak() {
    std::lock_guard<std::mutex> lock(mu_);
    return peak_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mu_);
    peak_ = live_;
  }

 private:
  std::mutex mu_;
  std::unordered_map<void*, size_t> sizes_;
  int64_t live_ = 0, peak_ = 0;
};

std::atomic<bool> g_installed{false};

int64_t peak_rss() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace

void install_counting_cpu_allocator() {
  if (g_installed.exchange(true)) return;
  c10::SetCPUAllocator(&CountingCpuAllocator::instance(), /*priority=*/100);
}

bool counting_cpu_allocator_installed() { return g_installed.load(); }

MemoryReading read_memory(const c10::Device& device) {
  MemoryReading r;
  r.peak_rss_bytes = peak_rss();
#ifdef LNB_WITH_CUDA_SOURCES
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
    const auto& all = stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)];
    r.live_bytes = all.current;
    r.peak_bytes = all.peak;
    r.source = "cuda-caching-allocator";
    return r;
  }
#endif
  if (device.is_cpu() && g_installed.load()) {
    r.live_bytes = CountingCpuAllocator::instance().live();
    r.peak_bytes = CountingCpuAllocator::instance().peak();
    r.source = "cpu-counting-allocator";
    return r;
  }
  r.source = "none";
  return r;
}

void reset_peak_memory(const c10::Device& device) {
#ifdef LNB_WITH_CUDA_SOURCES
  if (device.is_cuda()) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
    return;
  }
#endif
  if (device.is_cpu() && g_installed.load()) CountingCpuAllocator::instance().reset_peak();
}

}  // namespace lnb::training
