// Runs the real lnbench binary (LNB_EXE) with arguments, stderr folded into the output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace lnb::test {

struct Result {
  int code;
  std::string out;
};

inline Result run_lnbench(const std::string& args, const std::string& stdin_file = "") {
  std::string cmd = std::string(LNB_EXE) + " " + args + " 2>&1";
  if (!stdin_file.empty()) cmd += " < " + stdin_file;
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WEXITSTATUS(status), out};
}

}  // namespace lnb::test
