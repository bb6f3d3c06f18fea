// Runs the real lnbench binary (LNB_EXE) with arguments, stderr folded into the output;
// or starts a command in the background with its stderr in a log (kill tests).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

namespace lnb::test {

struct Result {
  int code;
  std::string out;
};

// Any shell command, stderr folded into the output.
inline Result run_command(const std::string& command) {
  const std::string cmd = command + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WEXITSTATUS(status), out};
}

inline Result run_lnbench(const std::string& args, const std::string& stdin_file = "") {
  std::string cmd = std::string(LNB_EXE) + " " + args;
  if (!stdin_file.empty()) cmd += " < " + stdin_file;
  return run_command(cmd);
}

// `command` via /bin/sh in a child process, stdout discarded, stderr to `stderr_log`.
inline pid_t spawn(const std::string& command, const std::string& stderr_log) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + command + " >/dev/null 2>" + stderr_log).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

}  // namespace lnb::test
