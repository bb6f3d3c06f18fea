// The lnbench command line: one CLI11 app with the subcommands of DESIGN.md. Each
// subcommand registers itself through a `register_*` function in its own file;
// main() only dispatches. Exit codes: 0 ok, 1 failure, 2 bad usage or input,
// 3 a subcommand that is not built yet.
#pragma once

#include <CLI/CLI.hpp>

namespace lnb::harness {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitNotBuilt = 3;

// Adds the subcommand; `exit_code` receives the subcommand's result when it runs.
void register_selfcheck(CLI::App& app, int& exit_code);
void register_score(CLI::App& app, int& exit_code);
void register_not_built(CLI::App& app, int& exit_code);

// `lnbench --version` text (several lines).
std::string version_text();

}  // namespace lnb::harness
