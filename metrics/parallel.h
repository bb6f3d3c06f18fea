// A minimal parallel-for over an index range on std::thread (metrics/ stays
// dependency-free). Results must not depend on the split: callers write to disjoint
// slots and reduce afterwards in a fixed order, so output is identical for any thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace lnb::metrics {

// The most threads parallel_blocks uses (and the shard count of tables filled in
// parallel): the hardware's, unless set_parallel_threads(n > 0) caps it (tests run the
// same work on 1..N threads and require identical doubles).
inline std::atomic<size_t>& parallel_threads_cap() {
  static std::atomic<size_t> cap{0};
  return cap;
}
inline void set_parallel_threads(size_t n) { parallel_threads_cap() = n; }
inline size_t parallel_threads() {
  const size_t cap = parallel_threads_cap();
  return cap > 0 ? cap : std::max<size_t>(1, std::thread::hardware_concurrency());
}

// Calls fn(begin, end) on contiguous blocks of [0, n), using up to parallel_threads()
// (and none extra for small n).
template <typename Fn>
void parallel_blocks(size_t n, Fn&& fn, size_t min_block = 256) {
  const size_t hw = parallel_threads();
  const size_t n_threads = std::min(hw, std::max<size_t>(1, n / min_block));
  if (n_threads <= 1) {
    fn(size_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  const size_t block = (n + n_threads - 1) / n_threads;
  for (size_t t = 1; t < n_threads; ++t) {
    const size_t b = std::min(n, t * block), e = std::min(n, (t + 1) * block);
    pool.emplace_back([&fn, b, e] { fn(b, e); });
  }
  fn(size_t{0}, std::min(n, block));
  for (std::thread& th : pool) th.join();
}

}  // namespace lnb::metrics
