// The HF reference fixtures of tests/model/hf_oracle.py in <build>/hf_fixtures: made by
// the CTest fixture `model.hf_oracle` before the parity tests (FIXTURES_SETUP), or here
// on first use when a test binary runs alone. Without a Python that has transformers the
// parity tests fail: CI's venv always has it (scripts/lnb).
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace lnb::test {

inline std::filesystem::path make_temp_dir(const std::string& stem) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (stem + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

// The fixture folder, built on first use; empty path and *error set when the oracle failed.
inline const std::filesystem::path& hf_fixtures(std::string* error) {
  static std::string failure;
  static const std::filesystem::path dir = [] {
    const std::filesystem::path d = std::filesystem::path(LNB_BINARY_DIR) / "hf_fixtures";
    if (std::filesystem::exists(d / ".done")) return d;
    std::filesystem::create_directories(d);
    const std::string cmd = std::string(LNB_ORACLE_PYTHON) + " " LNB_SOURCE_DIR "/tests/model/hf_oracle.py " + d.string() +
                            " > " + (d / "oracle.log").string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    if (rc == 0) std::fclose(std::fopen((d / ".done").c_str(), "w"));
    if (rc != 0) failure = "hf_oracle.py failed (exit " + std::to_string(WEXITSTATUS(rc)) + "), see " + (d / "oracle.log").string();
    return d;
  }();
  if (error) *error = failure;
  return dir;
}

}  // namespace lnb::test
