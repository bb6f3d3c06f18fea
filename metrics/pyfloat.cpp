// See pyfloat.h.
#include "metrics/pyfloat.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace lnb::metrics {
namespace {

// numpy/core/src/umath/loops_utils.h.src, @TYPE@_pairwise_sum with PW_BLOCKSIZE 128.
double pairwise(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.0;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

}  // namespace

double numpy_sum(std::span<const double> a) { return pairwise(a.data(), a.size()); }

double numpy_mean(std::span<const double> a) {
  if (a.empty()) return std::numeric_limits<double>::quiet_NaN();
  return numpy_sum(a) / static_cast<double>(a.size());
}

double py_round(double x, int ndigits) {
  if (!std::isfinite(x)) return x;
  // glibc's printf rounds the exact binary value correctly (ties to even), which
  // is what CPython's round() does through its own correctly rounded dtoa.
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*f", ndigits, x);
  return std::strtod(buf, nullptr);
}

}  // namespace lnb::metrics
