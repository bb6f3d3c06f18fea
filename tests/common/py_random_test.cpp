// MT19937 and numpy's and CPython's sampling, against numpy and CPython themselves: the
// oracle Python (LNB_ORACLE_PYTHON, with numpy) prints each draw for many seeds and
// sizes, including the authors' own calls (choice(214354, 7048) after seed 42; 3 of a
// 2048-question pool, question after question, after random.seed(42)). Skips where the
// oracle is missing; the by-hand cases below run everywhere.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/py_random.h"

namespace lnb::common {
namespace {

using nlohmann::json;

// mt19937ar.c's published check: init_by_array({0x123, 0x234, 0x345, 0x456}) gives
// 1067595299 955945823 477289528 ... as its first outputs (mt19937ar.out).
TEST(Mt19937, ReferenceOutputOfMt19937ar) {
  Mt19937 g = Mt19937::from_key({0x123, 0x234, 0x345, 0x456});
  EXPECT_EQ(g.next_u32(), 1067595299u);
  EXPECT_EQ(g.next_u32(), 955945823u);
  EXPECT_EQ(g.next_u32(), 477289528u);
  EXPECT_EQ(g.next_u32(), 4107218783u);
  EXPECT_EQ(g.next_u32(), 4228976476u);
  // std::mt19937's default seed 5489 gives 3499211612 first, and its 10000th is 4123659995.
  Mt19937 d(5489);
  EXPECT_EQ(d.next_u32(), 3499211612u);
  for (int i = 1; i < 9999; ++i) d.next_u32();
  EXPECT_EQ(d.next_u32(), 4123659995u);
}

TEST(PyRandom, RefusesWhatTheReferencesRefuse) {
  Mt19937 g(1);
  EXPECT_THROW(numpy_choice_without_replacement(g, 5, 6), std::invalid_argument);
  EXPECT_THROW(numpy_choice_without_replacement(g, 0, 0), std::invalid_argument);
  EXPECT_THROW(python_sample(g, 3, 4), std::invalid_argument);
  EXPECT_THROW(numpy_random_interval(g, uint64_t{1} << 33), std::invalid_argument);
  EXPECT_EQ(python_sample(g, 4, 0).size(), 0u);
  const auto p = numpy_permutation(g, 50);
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
}

#ifdef LNB_ORACLE_PYTHON
std::string run_python(const std::string& script) {
  const std::string path = ::testing::TempDir() + "lnb_py_random_oracle.py";
  std::ofstream(path) << script;
  FILE* pipe = popen((std::string(LNB_ORACLE_PYTHON) + " " + path + " 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 65536> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return WEXITSTATUS(status) == 0 ? out : "ERROR " + out;
}

const char* kOracle = R"(
import json, random, sys
try:
    import numpy as np
except ImportError:
    print("NO NUMPY"); sys.exit(0)
out = {"numpy_raw": {}, "python_raw": {}, "numpy_choice": [], "numpy_one": [], "python_sample": [], "python_bits": [],
       "authors": {}}
seeds = [0, 1, 42, 12345, 2**32 - 1]
for s in seeds:
    out["numpy_raw"][str(s)] = [int(v) for v in np.random.RandomState(s)._bit_generator.random_raw(1300)]
for s in seeds + [-7, 2**40 + 3]:
    random.seed(s)
    out["python_raw"][str(s)] = [random.getrandbits(32) for _ in range(1300)]
for s in seeds:
    for n, k in [(1, 1), (2, 1), (10, 3), (100, 100), (1000, 17), (7000, 2048), (65537, 5)]:
        out["numpy_choice"].append([s, n, k, [int(v) for v in np.random.RandomState(s).choice(n, k, replace=False)]])
    rs = np.random.RandomState(s)
    out["numpy_one"].append([s, [int(rs.choice(n)) for n in [1, 2, 3, 5, 7, 100, 2**31, 2**32] for _ in range(5)]])
for s in [0, 42, 99, -5, 2**40 + 3]:
    for n, k in [(3, 3), (5, 3), (21, 3), (22, 3), (26, 6), (27, 6), (40, 6), (2048, 3), (1000, 600), (10**6, 50)]:
        random.seed(s)
        out["python_sample"].append([s, n, k, random.sample(range(n), k)])
    random.seed(s)
    out["python_bits"].append([s, [random.getrandbits(k) for k in range(1, 65)], [random.randrange(n) for n in
                                   [1, 2, 3, 7, 1000, 2**31 + 5, 2**33 + 1, 2**63 - 25]]])
# The authors' calls (specs/protocol.md): the VQAv2 subset and each question's demos.
np.random.seed(42)
idx = np.random.choice(214354, 5000 + 2048, replace=False)
out["authors"]["vqav2_choice_head"] = [int(v) for v in idx[:50]]
out["authors"]["vqav2_choice_tail"] = [int(v) for v in idx[-50:]]
out["authors"]["vqav2_choice_sum"] = int(idx.sum())
random.seed(42)
out["authors"]["demos"] = [random.sample(range(2048), 3) for _ in range(5000)]
print(json.dumps(out))
)";

class Oracle : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string text = run_python(kOracle);
    if (text.rfind("ERROR", 0) == 0 || text.find("NO NUMPY") != std::string::npos) {
      skip_ = text.substr(0, 400);
      return;
    }
    data_ = new json(json::parse(text));
  }
  void SetUp() override {
    if (!data_) GTEST_SKIP() << "the numpy/CPython oracle is not available: " << skip_;
  }
  static const json& data() { return *data_; }
  static inline json* data_ = nullptr;
  static inline std::string skip_;
};

TEST_F(Oracle, RawStreamsMatchNumpyAndCPythonSeeding) {
  for (const auto& [seed, values] : data()["numpy_raw"].items()) {
    Mt19937 g(static_cast<uint32_t>(std::stoull(seed)));
    for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(g.next_u32(), values[i].get<uint32_t>()) << "numpy seed " << seed << " #" << i;
  }
  for (const auto& [seed, values] : data()["python_raw"].items()) {
    Mt19937 g = Mt19937::python_seeded(std::stoll(seed));
    for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(g.next_u32(), values[i].get<uint32_t>()) << "python seed " << seed << " #" << i;
  }
}

TEST_F(Oracle, NumpyChoiceWithAndWithoutReplacement) {
  for (const json& c : data()["numpy_choice"]) {
    Mt19937 g(c[0].get<uint32_t>());
    EXPECT_EQ(json(numpy_choice_without_replacement(g, c[1].get<int64_t>(), c[2].get<int64_t>())), c[3])
        << "seed " << c[0] << " n " << c[1] << " k " << c[2];
  }
  for (const json& c : data()["numpy_one"]) {
    Mt19937 g(c[0].get<uint32_t>());
    std::vector<int64_t> got;
    for (int64_t n : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{5}, int64_t{7}, int64_t{100}, int64_t{1} << 31, int64_t{1} << 32})
      for (int r = 0; r < 5; ++r) got.push_back(numpy_choice_one(g, n));
    EXPECT_EQ(json(got), c[1]) << "seed " << c[0];
  }
}

TEST_F(Oracle, PythonSampleGetrandbitsAndRandbelow) {
  for (const json& c : data()["python_sample"]) {
    Mt19937 g = Mt19937::python_seeded(c[0].get<int64_t>());
    EXPECT_EQ(json(python_sample(g, c[1].get<int64_t>(), c[2].get<int64_t>())), c[3])
        << "seed " << c[0] << " n " << c[1] << " k " << c[2];
  }
  for (const json& c : data()["python_bits"]) {
    Mt19937 g = Mt19937::python_seeded(c[0].get<int64_t>());
    std::vector<uint64_t> bits, below;
    for (int k = 1; k <= 64; ++k) bits.push_back(python_getrandbits(g, k));
    for (uint64_t n : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{7}, uint64_t{1000}, (uint64_t{1} << 31) + 5,
                       (uint64_t{1} << 33) + 1, (uint64_t{1} << 63) - 25})
      below.push_back(python_randbelow(g, n));
    EXPECT_EQ(json(bits), c[1]) << "seed " << c[0];
    EXPECT_EQ(json(below), c[2]) << "seed " << c[0];
  }
}

TEST_F(Oracle, TheAuthorsVqaSubsetAndDemosBitForBit) {
  const json& a = data()["authors"];
  Mt19937 np42(42);
  const std::vector<int64_t> idx = numpy_choice_without_replacement(np42, 214354, 5000 + 2048);
  int64_t sum = 0;
  for (int64_t v : idx) sum += v;
  EXPECT_EQ(json(std::vector<int64_t>(idx.begin(), idx.begin() + 50)), a["vqav2_choice_head"]);
  EXPECT_EQ(json(std::vector<int64_t>(idx.end() - 50, idx.end())), a["vqav2_choice_tail"]);
  EXPECT_EQ(sum, a["vqav2_choice_sum"].get<int64_t>());
  Mt19937 py42 = Mt19937::python_seeded(42);
  const json& demos = a["demos"];
  for (size_t q = 0; q < demos.size(); ++q) ASSERT_EQ(json(python_sample(py42, 2048, 3)), demos[q]) << "question " << q;
}
#endif

}  // namespace
}  // namespace lnb::common
