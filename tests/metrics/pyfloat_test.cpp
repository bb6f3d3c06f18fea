// numpy pairwise summation and Python round() emulation.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "metrics/pyfloat.h"

namespace lnb::metrics {
namespace {

TEST(PyFloat, ShortArraysSumLeftToRight) {
  // n < 8: plain left-to-right: ((0.1 + 0.2) + 0.3) = 0.6000000000000001.
  const std::vector<double> a = {0.1, 0.2, 0.3};
  EXPECT_EQ(numpy_sum(a), (0.1 + 0.2) + 0.3);
  EXPECT_EQ(numpy_sum(a), 0.6000000000000001);
}

TEST(PyFloat, EightLanesThenTail) {
  // n = 10: r_j = a[j] for j < 8; no full second block (i runs while i < 10 - 2 = 8);
  // ((r0+r1)+(r2+r3)) + ((r4+r5)+(r6+r7)), then + a[8] + a[9].
  std::vector<double> a(10);
  for (int i = 0; i < 10; ++i) a[i] = 1.0 / (i + 3);
  const double expect = (((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))) + a[8] + a[9];
  EXPECT_EQ(numpy_sum(a), expect);
}

TEST(PyFloat, SplitAbove128MatchesRecursiveDefinition) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> a(300);
  for (double& x : a) x = u(rng) * 1e3;
  // n2 = 150 - 150 % 8 = 144.
  const std::span<const double> s(a);
  EXPECT_EQ(numpy_sum(s), numpy_sum(s.subspan(0, 144)) + numpy_sum(s.subspan(144)));
  double naive = 0;
  for (double x : a) naive += x;
  EXPECT_NEAR(numpy_sum(s), naive, 1e-9);
}

TEST(PyFloat, RoundIsHalfEvenOnTheExactBinaryValue) {
  EXPECT_EQ(py_round(0.125, 2), 0.12);   // exact tie -> even
  EXPECT_EQ(py_round(0.375, 2), 0.38);   // exact tie -> even
  EXPECT_EQ(py_round(2.675, 2), 2.67);   // 2.67499999... in binary
  EXPECT_EQ(py_round(66.666666, 2), 66.67);
  EXPECT_EQ(py_round(100.0, 2), 100.0);
}

}  // namespace
}  // namespace lnb::metrics
