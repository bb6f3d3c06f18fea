// The torch-free half of the CLI: the subcommand table, the app, and run_app().
#include <cstdint>
#include <iostream>

#include "harness/cli.h"

namespace lnb::harness {

const std::vector<TorchSubcommand>& torch_subcommands() {
  static const std::vector<TorchSubcommand> k = {
      {"run", "Run the nightly strategy x task matrix from a config (resumes by default)", true},
      {"train", "Train one strategy on instruction data", true},
      {"eval", "Evaluate a model (and checkpoint) on one task", true},
      {"generate", "Greedy generation for one image and prompt", true},
      {"params", "Exact parameter counts per strategy, no weights needed", true},
      {"merge", "Write a full HF checkpoint from base + delta", true},
      {"demo", "The built-in default: the whole pipeline on shapes world", true},
      {"selfcheck", "Exercise every native dependency against a slow reference", true},
  };
  return k;
}

bool needs_torch(const std::string& first_arg) {
  if (first_arg == "--version") return true;
  for (const TorchSubcommand& t : torch_subcommands())
    if (first_arg == t.name) return true;
  return false;
}

void build_app(CLI::App& app, int& exit_code) {
  app.require_subcommand(0, 1);
  register_score(app, exit_code);
  register_report(app, exit_code);
  for (const TorchSubcommand& t : torch_subcommands()) {
    CLI::App* cmd = app.add_subcommand(t.name, std::string(t.description) + (t.built ? "" : " [not built yet]"));
    cmd->allow_extras();
    cmd->prefix_command();
  }
  // main() hands --version to the plugin before parsing; this entry is for --help.
  app.add_flag_function("--version", [](std::int64_t) {}, "Print lnbench, torch, CUDA, NCCL, OpenCV and sentencepiece versions");
}

int run_app(CLI::App& app, int& exit_code, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int cli_code = app.exit(e);  // prints help, the version or the error
    return cli_code == 0 ? kExitOk : kExitBadInput;  // a bad flag or value is bad input (2)
  } catch (const common::EnvironmentError& e) {
    std::cerr << "lnbench: error: " << e.what() << "\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "lnbench: error: " << e.what() << "\n";
    return kExitBadInput;
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
    return kExitBadInput;
  }
  return exit_code;
}

}  // namespace lnb::harness
