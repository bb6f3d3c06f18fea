// The lnbench command line: one CLI11 app with the subcommands of DESIGN.md. Each
// subcommand registers itself through a `register_*` function in its own file.
//
// The executable is torch-free: `score` and `report` run without loading LibTorch
// (whose start-up alone costs ~0.5 s). Subcommands that need LibTorch live in the
// plugin liblnbench_torch.so (harness/torch_plugin.cpp), which main() dlopens only
// when such a subcommand (or --version) is asked for; the plugin builds the same app
// with the torch subcommands filled in.
//
// Exit codes, the one definition (README "Exit codes" repeats it):
//   0 ok · 1 the environment failed (disk full, a write refused, a device missing, a
//   run that failed for a reason not in its input) · 2 bad usage or bad input (a file,
//   a field, a flag) · 3 a subcommand that is not built · 4 a regression found by
//   `report --fail-on-regression`. A signal never ends lnbench on bad input.
#pragma once

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/errors.h"
#include "tasks/data_error.h"

namespace lnb::harness {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitNotBuilt = 3;
inline constexpr int kExitRegression = 4;  // `report --fail-on-regression` found one

// Subcommands that need LibTorch, in --help order, with their one-line help.
struct TorchSubcommand {
  const char* name;
  const char* description;
  bool built;  // false: says "not built yet" and exits kExitNotBuilt
};
const std::vector<TorchSubcommand>& torch_subcommands();
bool needs_torch(const std::string& first_arg);  // a torch subcommand, or --version

// The app with every subcommand; torch ones as stubs that ask for the plugin.
void build_app(CLI::App& app, int& exit_code);

// Runs a torch-free subcommand's `body`, turning bad input (DataError,
// std::invalid_argument) into a message and exit code 2.
template <typename F>
void guarded(int& exit_code, F&& body, const char* command = "lnbench score") {
  try {
    exit_code = body();
  } catch (const common::EnvironmentError& e) {
    std::cerr << command << ": " << e.what() << "\n";
    exit_code = kExitFailure;
  } catch (const tasks::DataError& e) {
    std::cerr << command << ": " << e.what() << "\n";
    exit_code = kExitBadInput;
  } catch (const std::invalid_argument& e) {
    std::cerr << command << ": " << e.what() << "\n";
    exit_code = kExitBadInput;
  }
}

// Torch-free subcommands; `exit_code` receives the result when one runs.
void register_score(CLI::App& app, int& exit_code);
void register_report(CLI::App& app, int& exit_code);
void register_score_task(CLI::App* score, int& exit_code);  // `score task`, harness/score_task_command.cpp

// In the plugin: replaces the torch stubs with the real subcommands and --version.
void register_torch_commands(CLI::App& app, int& exit_code);

// Parses and runs; turns escaping exceptions into a message and exit code.
int run_app(CLI::App& app, int& exit_code, int argc, char** argv);

}  // namespace lnb::harness
