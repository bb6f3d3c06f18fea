// safetensors: exact round trips for every dtype, sharded checkpoints, every
// validation failure (typed error naming file and tensor), and parity with the
// Python safetensors package (the oracle) in both directions.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "model/safetensors.h"

namespace lnb::model {
namespace {

namespace fs = std::filesystem;

fs::path dir() {
  static const fs::path d = [] {
    // One folder per process: ctest runs these tests in parallel processes.
    const fs::path p = fs::temp_directory_path() / ("lnb_safetensors_test_" + std::to_string(getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
  }();
  return d;
}

// The reference tensors of tests/model/safetensors_oracle.py.
std::vector<std::pair<std::string, at::Tensor>> reference() {
  const std::vector<std::tuple<std::string, at::ScalarType, std::vector<int64_t>>> specs = {
      {"f64", at::kDouble, {2, 3}}, {"f32", at::kFloat, {4, 5}}, {"f16", at::kHalf, {3}},
      {"bf16", at::kBFloat16, {2, 2, 2}}, {"i64", at::kLong, {5}}, {"i32", at::kInt, {2, 3}},
      {"i16", at::kShort, {4}}, {"i8", at::kChar, {6}}, {"u8", at::kByte, {7}}, {"bool", at::kBool, {3, 1}},
      {"empty", at::kFloat, {0, 4}}};
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& [name, dtype, shape] : specs) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    const at::Tensor v = at::arange(n, at::kDouble).reshape(shape) * 0.25 - 3;
    out.emplace_back(name, dtype == at::kBool ? v.gt(0) : v.to(dtype));
  }
  return out;
}

std::string raw_file(const std::string& json, size_t data_bytes) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((json.size() >> (8 * i)) & 0xFF);
  return out + json + std::string(data_bytes, '\x01');
}

SafetensorsError load_error(const std::string& name, const std::string& bytes) {
  const fs::path p = dir() / name;
  std::ofstream(p, std::ios::binary) << bytes;
  try {
    SafetensorsFile f(p);
  } catch (const SafetensorsError& e) {
    return e;
  }
  ADD_FAILURE() << name << ": no error";
  return SafetensorsError("", "", "");
}

TEST(Safetensors, RoundTripIsExactForEveryDtype) {
  const auto ref = reference();
  save_safetensors(dir() / "rt.safetensors", ref);
  const SafetensorsFile f(dir() / "rt.safetensors");
  EXPECT_EQ(f.header().metadata.at("format"), "pt");
  EXPECT_EQ(f.header().data_start % 8, 0u);
  for (const auto& [name, t] : ref) {
    const at::Tensor back = f.tensor(name);
    EXPECT_EQ(back.scalar_type(), t.scalar_type()) << name;
    EXPECT_EQ(back.sizes(), t.sizes()) << name;
    EXPECT_TRUE(at::equal(back, t)) << name;
  }
}

TEST(Safetensors, ShardedCheckpointFollowsTheIndex) {
  const fs::path d = dir() / "sharded";
  fs::create_directories(d);
  const auto ref = reference();
  save_safetensors(d / "model-00001-of-00002.safetensors", {ref[0], ref[1]});
  save_safetensors(d / "model-00002-of-00002.safetensors", {ref[2]});
  std::ofstream(d / "model.safetensors.index.json")
      << R"({"metadata": {}, "weight_map": {"f64": "model-00001-of-00002.safetensors",
            "f32": "model-00001-of-00002.safetensors", "f16": "model-00002-of-00002.safetensors"}})";
  const SafetensorsCheckpoint ck(d);
  EXPECT_EQ(ck.names().size(), 3u);
  EXPECT_TRUE(at::equal(ck.tensor("f16"), ref[2].second));
  std::ofstream(d / "model.safetensors.index.json") << R"({"weight_map": {"f16": "model-00001-of-00002.safetensors"}})";
  try {
    SafetensorsCheckpoint bad(d);
    FAIL();
  } catch (const SafetensorsError& e) {
    EXPECT_EQ(e.tensor(), "f16");
  }
}

TEST(Safetensors, BrokenFilesAreTypedErrorsNamingFileAndTensor) {
  EXPECT_NE(std::string(load_error("short", "abc").what()).find("8-byte header length"), std::string::npos);
  EXPECT_NE(std::string(load_error("toolong", raw_file("{}", 0).replace(0, 8, std::string("\xff\xff\xff\x7f\0\0\0\0", 8))).what())
                .find("100 MB"), std::string::npos);
  EXPECT_NE(std::string(load_error("pastend", raw_file("{}", 0).replace(0, 1, "\x40")).what()).find("past the end"),
            std::string::npos);
  EXPECT_NE(std::string(load_error("json", raw_file("{nope", 0)).what()).find("not valid JSON"), std::string::npos);
  auto e = load_error("dtype", raw_file(R"({"w": {"dtype": "F12", "shape": [1], "data_offsets": [0, 4]}})", 4));
  EXPECT_EQ(e.tensor(), "w");
  EXPECT_NE(std::string(e.what()).find("dtype"), std::string::npos);
  e = load_error("bytes", raw_file(R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}})", 12));
  EXPECT_EQ(e.tensor(), "w");
  EXPECT_NE(std::string(e.what()).find("needs 16 bytes"), std::string::npos);
  e = load_error("outside", raw_file(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8));
  EXPECT_NE(std::string(e.what()).find("outside the data region"), std::string::npos);
  e = load_error("overlap", raw_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                         "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12));
  EXPECT_EQ(e.tensor(), "b");
  EXPECT_NE(std::string(e.what()).find("overlaps tensor 'a'"), std::string::npos);
  e = load_error("shape", raw_file(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4));
  EXPECT_NE(std::string(e.what()).find("non-negative"), std::string::npos);
  e = load_error("meta", raw_file(R"({"__metadata__": {"k": 1}})", 0));
  EXPECT_NE(std::string(e.what()).find("__metadata__.k"), std::string::npos);
}

// Runs the oracle; returns its stdout, or "" with *skip set when it cannot run.
std::string oracle(const std::string& args, bool* skip) {
  const std::string cmd = std::string(LNB_ORACLE_PYTHON) + " " + LNB_SOURCE_DIR "/tests/model/safetensors_oracle.py " + args;
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = pclose(p);
  *skip = WEXITSTATUS(rc) == 77 || std::string(LNB_ORACLE_PYTHON).empty();
  return out;
}

TEST(Safetensors, ParityWithThePythonPackage) {
  bool skip = false;
  const fs::path from_python = dir() / "py.safetensors";
  oracle("write " + from_python.string(), &skip);
  if (skip) GTEST_SKIP() << "Python safetensors oracle unavailable (scripts/lnb installs it)";
  // Python wrote it, we read it.
  const SafetensorsFile f(from_python);
  for (const auto& [name, t] : reference()) EXPECT_TRUE(at::equal(f.tensor(name), t)) << name;
  // We write it, Python reads it.
  const fs::path from_us = dir() / "us.safetensors";
  save_safetensors(from_us, reference());
  const auto j = nlohmann::json::parse(oracle("check " + from_us.string(), &skip));
  for (const auto& [name, t] : reference()) {
    ASSERT_TRUE(j.contains(name)) << name;
    EXPECT_EQ(j[name][1].get<std::vector<int64_t>>(), t.sizes().vec()) << name;
    EXPECT_EQ(j[name][2].get<double>(), t.to(at::kDouble).sum().item<double>()) << name;
  }
}

}  // namespace
}  // namespace lnb::model
