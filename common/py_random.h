// The random draws of the paper authors' evaluation code, bit for bit: MT19937 and the
// sampling algorithms of numpy's legacy RandomState and of CPython's `random` on top of
// it. The authors pick their VQAv2 subset with `np.random.seed(42);
// np.random.choice(n, k, replace=False)` and each question's demos with `random.seed(42)`
// then `random.sample(pool, 3)` (specs/protocol.md); reproducing their selection needs
// the same generator, the same seeding and the same algorithm, not just "a seeded
// sample". Tested against numpy and CPython themselves (tests/common/py_random_test.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace lnb::common {

// The Mersenne Twister of Matsumoto and Nishimura (mt19937ar.c), as numpy's MT19937
// and CPython's _random module implement it.
class Mt19937 {
 public:
  // init_genrand(seed): numpy's RandomState(seed) / np.random.seed(seed) for an integer seed.
  explicit Mt19937(uint32_t seed);
  // init_by_array(key): CPython's random.seed(n) with key = |n|'s 32-bit words, least
  // significant first (one word 0 for n = 0).
  static Mt19937 from_key(const std::vector<uint32_t>& key);
  // CPython's random.seed(n) for an integer n.
  static Mt19937 python_seeded(int64_t n);

  uint32_t next_u32();  // genrand_int32

 private:
  Mt19937() = default;
  void init_genrand(uint32_t seed);
  std::array<uint32_t, 624> mt_{};
  int mti_ = 625;
};

// --- numpy's legacy RandomState ---------------------------------------------------

// random_interval(max): a uniform draw in [0, max] by masked rejection of 32-bit draws;
// max beyond 2^32 - 1 is refused (std::invalid_argument).
uint64_t numpy_random_interval(Mt19937& g, uint64_t max);
// RandomState.permutation(n): arange(n) shuffled (Fisher-Yates from the end, j =
// random_interval(i) for i = n-1 .. 1).
std::vector<int64_t> numpy_permutation(Mt19937& g, int64_t n);
// RandomState.choice(n, k, replace=False) without p: permutation(n)[:k].
std::vector<int64_t> numpy_choice_without_replacement(Mt19937& g, int64_t n, int64_t k);
// RandomState.choice(n) (one draw, replace=True, no p): randint(0, n), a masked
// rejection draw in [0, n-1].
int64_t numpy_choice_one(Mt19937& g, int64_t n);

// --- CPython's random -------------------------------------------------------------

// getrandbits(k), 1 <= k <= 64: words least significant first, the last one shifted.
uint64_t python_getrandbits(Mt19937& g, int k);
// Random._randbelow(n) (getrandbits(n.bit_length()) until below n); 0 for n = 0.
uint64_t python_randbelow(Mt19937& g, uint64_t n);
// The indices Random.sample(range(n), k) returns, in order (CPython 3.11's algorithm:
// a partial shuffle of a pool when n is at most the set-size threshold, else rejection
// of repeats through a set).
std::vector<int64_t> python_sample(Mt19937& g, int64_t n, int64_t k);

}  // namespace lnb::common
