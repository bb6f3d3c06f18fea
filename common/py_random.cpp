// See py_random.h. Each function transcribes its reference (mt19937ar.c; numpy's
// distributions.c random_interval and _legacy mtrand shuffle/choice/randint; CPython's
// _randommodule.c and random.py), named in its comment.
#include "common/py_random.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <unordered_set>

namespace lnb::common {

// mt19937ar.c init_genrand.
void Mt19937::init_genrand(uint32_t seed) {
  mt_[0] = seed;
  for (int i = 1; i < 624; ++i)
    mt_[static_cast<size_t>(i)] =
        1812433253u * (mt_[static_cast<size_t>(i - 1)] ^ (mt_[static_cast<size_t>(i - 1)] >> 30)) + static_cast<uint32_t>(i);
  mti_ = 624;
}

Mt19937::Mt19937(uint32_t seed) { init_genrand(seed); }

// mt19937ar.c init_by_array.
Mt19937 Mt19937::from_key(const std::vector<uint32_t>& key) {
  if (key.empty()) throw std::invalid_argument("Mt19937::from_key: an empty key");
  Mt19937 g;
  g.init_genrand(19650218u);
  auto& mt = g.mt_;
  size_t i = 1, j = 0;
  const size_t n = 624, len = key.size();
  for (size_t k = n > len ? n : len; k > 0; --k) {
    mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + key[j] + static_cast<uint32_t>(j);
    ++i, ++j;
    if (i >= n) mt[0] = mt[n - 1], i = 1;
    if (j >= len) j = 0;
  }
  for (size_t k = n - 1; k > 0; --k) {
    mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - static_cast<uint32_t>(i);
    ++i;
    if (i >= n) mt[0] = mt[n - 1], i = 1;
  }
  mt[0] = 0x80000000u;
  g.mti_ = 624;
  return g;
}

// _randommodule.c random_seed for an int: init_by_array over |n|'s 32-bit words.
Mt19937 Mt19937::python_seeded(int64_t n) {
  uint64_t v = n < 0 ? static_cast<uint64_t>(-(n + 1)) + 1 : static_cast<uint64_t>(n);
  std::vector<uint32_t> key;
  do {
    key.push_back(static_cast<uint32_t>(v & 0xffffffffu));
    v >>= 32;
  } while (v != 0);
  return from_key(key);
}

// mt19937ar.c genrand_int32.
uint32_t Mt19937::next_u32() {
  constexpr uint32_t kUpper = 0x80000000u, kLower = 0x7fffffffu, kMatrix = 0x9908b0dfu;
  if (mti_ >= 624) {
    int k = 0;
    for (; k < 624 - 397; ++k) {
      const uint32_t y = (mt_[static_cast<size_t>(k)] & kUpper) | (mt_[static_cast<size_t>(k + 1)] & kLower);
      mt_[static_cast<size_t>(k)] = mt_[static_cast<size_t>(k + 397)] ^ (y >> 1) ^ ((y & 1u) ? kMatrix : 0u);
    }
    for (; k < 623; ++k) {
      const uint32_t y = (mt_[static_cast<size_t>(k)] & kUpper) | (mt_[static_cast<size_t>(k + 1)] & kLower);
      mt_[static_cast<size_t>(k)] = mt_[static_cast<size_t>(k + 397 - 624)] ^ (y >> 1) ^ ((y & 1u) ? kMatrix : 0u);
    }
    const uint32_t y = (mt_[623] & kUpper) | (mt_[0] & kLower);
    mt_[623] = mt_[396] ^ (y >> 1) ^ ((y & 1u) ? kMatrix : 0u);
    mti_ = 0;
  }
  uint32_t y = mt_[static_cast<size_t>(mti_++)];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

// numpy distributions.c random_interval, 32-bit branch (numpy's 64-bit branch draws two
// words in an order C leaves unspecified; populations that large are refused).
uint64_t numpy_random_interval(Mt19937& g, uint64_t max) {
  if (max == 0) return 0;
  if (max > 0xffffffffu)
    throw std::invalid_argument("numpy_random_interval: ranges beyond 2^32 are not supported, got " + std::to_string(max));
  uint64_t mask = max;
  for (int s = 1; s <= 16; s *= 2) mask |= mask >> s;
  uint64_t value;
  while ((value = (g.next_u32() & mask)) > max) {
  }
  return value;
}

// mtrand.pyx RandomState.permutation -> shuffle -> _shuffle_raw(n, first=1).
std::vector<int64_t> numpy_permutation(Mt19937& g, int64_t n) {
  if (n < 0) throw std::invalid_argument("numpy_permutation: n must be >= 0, got " + std::to_string(n));
  std::vector<int64_t> a(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) a[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i >= 1; --i) {
    const auto j = static_cast<int64_t>(numpy_random_interval(g, static_cast<uint64_t>(i)));
    std::swap(a[static_cast<size_t>(i)], a[static_cast<size_t>(j)]);
  }
  return a;
}

// mtrand.pyx RandomState.choice, replace=False, p=None.
std::vector<int64_t> numpy_choice_without_replacement(Mt19937& g, int64_t n, int64_t k) {
  if (n <= 0) throw std::invalid_argument("numpy choice: a must be greater than 0, got " + std::to_string(n));
  if (k < 0 || k > n)
    throw std::invalid_argument("numpy choice: cannot take a larger sample than population when replace=False (" +
                                std::to_string(k) + " of " + std::to_string(n) + ")");
  std::vector<int64_t> p = numpy_permutation(g, n);
  p.resize(static_cast<size_t>(k));
  return p;
}

// mtrand.pyx RandomState.choice, replace=True, one draw: randint(0, n) ->
// _bounded_integers _rand_int64 -> random_bounded_uint64 (masked; 32-bit draws while the
// range fits them).
int64_t numpy_choice_one(Mt19937& g, int64_t n) {
  if (n <= 0) throw std::invalid_argument("numpy choice: a must be greater than 0, got " + std::to_string(n));
  const auto rng = static_cast<uint64_t>(n - 1);
  if (rng == 0xffffffffu) return static_cast<int64_t>(g.next_u32());
  return static_cast<int64_t>(numpy_random_interval(g, rng));
}

// _randommodule.c _random_Random_getrandbits_impl for k <= 64.
uint64_t python_getrandbits(Mt19937& g, int k) {
  if (k < 1 || k > 64) throw std::invalid_argument("python_getrandbits: k in [1, 64], got " + std::to_string(k));
  if (k <= 32) return g.next_u32() >> (32 - k);
  const uint64_t low = g.next_u32();
  const uint64_t high = g.next_u32() >> (64 - k);
  return (high << 32) | low;
}

// random.py Random._randbelow_with_getrandbits.
uint64_t python_randbelow(Mt19937& g, uint64_t n) {
  if (n == 0) return 0;
  int bits = 0;
  for (uint64_t v = n; v != 0; v >>= 1) ++bits;
  uint64_t r = python_getrandbits(g, bits);
  while (r >= n) r = python_getrandbits(g, bits);
  return r;
}

// random.py Random.sample (3.11+: population is a sequence; counts=None).
std::vector<int64_t> python_sample(Mt19937& g, int64_t n, int64_t k) {
  if (k < 0 || k > n) throw std::invalid_argument("Sample larger than population or is negative (" + std::to_string(k) +
                                                  " of " + std::to_string(n) + ")");
  std::vector<int64_t> result(static_cast<size_t>(k));
  int64_t setsize = 21;  // size of a small set minus size of an empty list
  if (k > 5) {
    // 4 ** _ceil(_log(k * 3, 4)), with math.log's rounding: computed as Python does.
    setsize += static_cast<int64_t>(std::pow(4.0, std::ceil(std::log(static_cast<double>(k * 3)) / std::log(4.0))));
  }
  if (n <= setsize) {
    std::vector<int64_t> pool(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) pool[static_cast<size_t>(i)] = i;
    for (int64_t i = 0; i < k; ++i) {
      const auto j = static_cast<size_t>(python_randbelow(g, static_cast<uint64_t>(n - i)));
      result[static_cast<size_t>(i)] = pool[j];
      pool[j] = pool[static_cast<size_t>(n - i - 1)];
    }
  } else {
    std::unordered_set<int64_t> selected;
    for (int64_t i = 0; i < k; ++i) {
      auto j = static_cast<int64_t>(python_randbelow(g, static_cast<uint64_t>(n)));
      while (selected.count(j)) j = static_cast<int64_t>(python_randbelow(g, static_cast<uint64_t>(n)));
      selected.insert(j);
      result[static_cast<size_t>(i)] = j;
    }
  }
  return result;
}

}  // namespace lnb::common
