// Floating-point helpers that reproduce Python/numpy results bit for bit:
// numpy's pairwise summation (np.sum / np.mean on float64 arrays) and Python's
// round(x, ndigits), which is correctly rounded half-to-even on the exact binary value.
#pragma once

#include <span>

namespace lnb::metrics {

// np.add.reduce over a contiguous float64 array (blocks of 8, split above 128).
double numpy_sum(std::span<const double> a);

// np.mean: numpy_sum(a) / n; 0 elements -> NaN (numpy warns and returns nan).
double numpy_mean(std::span<const double> a);

// Python round(x, ndigits) for 0 <= ndigits <= 17.
double py_round(double x, int ndigits);

}  // namespace lnb::metrics
