// Shared by the fuzz targets: split one input into several "files" and write them
// where the loaders can read them. Exceptions a loader may throw on bad input are
// DataError (and std::invalid_argument from scorers); anything else escapes and
// libFuzzer reports it as a crash.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace lnb::fuzz {

// Parts separated by the byte sequence "\x00\x01" (absent in text formats).
inline std::vector<std::string> split_parts(const uint8_t* data, size_t size, size_t n) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < n; ++i) {
    const size_t sep = all.find(std::string_view("\x00\x01", 2));
    if (sep == std::string_view::npos) break;
    out.emplace_back(all.substr(0, sep));
    all.remove_prefix(sep + 2);
  }
  out.emplace_back(all);
  while (out.size() < n) out.emplace_back();
  return out;
}

inline std::filesystem::path write_part(const std::string& name, const std::string& text) {
  static const std::filesystem::path dir = [] {
    const auto d = std::filesystem::temp_directory_path() / ("lnb_fuzz_" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  const auto p = dir / name;
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  return p;
}

}  // namespace lnb::fuzz
