// Where lnbench's on-demand shared libraries live: ../lib next to the executable, or
// the path an environment variable names (LNB_TORCH_PLUGIN, LNB_IMAGE_PLUGIN).
#pragma once

#include <cstdlib>
#include <filesystem>

namespace lnb::harness {

inline std::filesystem::path plugin_path(const char* file_name, const char* env_var) {
  if (const char* env = std::getenv(env_var)) return env;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return exe.parent_path().parent_path() / "lib" / file_name;
}

}  // namespace lnb::harness
