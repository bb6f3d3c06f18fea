// Small output helpers shared by the `lnbench score` subcommands (score_command.cpp,
// score_peers.cpp): fixed-digit numbers, optional values, the --json printer.
#pragma once

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace lnb::harness::score_output {

using nlohmann::ordered_json;

inline std::string fmt(double v, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
inline ordered_json opt(const std::optional<double>& v) { return v ? ordered_json(*v) : ordered_json(nullptr); }
inline std::string opt_str(const std::optional<double>& v) { return v ? fmt(*v) : "n/a"; }
inline void print_json(const ordered_json& j) { std::cout << j.dump(2) << "\n"; }

}  // namespace lnb::harness::score_output
