// lnbench's entry point: builds the CLI, dispatches, and turns exceptions that
// escape a subcommand into a message and exit code (library code never exits).
#include <iostream>

#include "harness/build_info.h"
#include "harness/cli.h"

int main(int argc, char** argv) {
  CLI::App app{"lnbench: train and evaluate multimodal LLMs, compare tuning strategies", "lnbench"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", [] { return lnb::harness::version_text(); });
  int exit_code = lnb::harness::kExitOk;
  lnb::harness::register_score(app, exit_code);
  lnb::harness::register_selfcheck(app, exit_code);
  lnb::harness::register_not_built(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "lnbench: error: " << e.what() << "\n";
    return lnb::harness::kExitBadInput;
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
    return lnb::harness::kExitBadInput;
  }
  return exit_code;
}
