// liblnbench_torch.so: the subcommands that need LibTorch. main() dlopens this and
// calls lnb_torch_main, which builds the full app (torch-free subcommands included,
// so --help is identical) with the real torch subcommands.
#include <iostream>

#include "harness/cli.h"
#include "training/memory.h"

namespace lnb::harness {

void register_selfcheck(CLI::App& app, int& exit_code);
void register_params(CLI::App& app, int& exit_code);
void register_generate(CLI::App& app, int& exit_code);
void register_train(CLI::App& app, int& exit_code);
void register_merge(CLI::App& app, int& exit_code);
void register_run(CLI::App& app, int& exit_code);
void register_eval(CLI::App& app, int& exit_code);
void register_demo(CLI::App& app, int& exit_code);
std::string version_text();

void register_torch_commands(CLI::App& app, int& exit_code) {
  register_selfcheck(app, exit_code);
  register_params(app, exit_code);
  register_generate(app, exit_code);
  register_train(app, exit_code);
  register_merge(app, exit_code);
  register_run(app, exit_code);
  register_eval(app, exit_code);
  register_demo(app, exit_code);
  for (const TorchSubcommand& t : torch_subcommands()) {
    if (t.built) continue;
    CLI::App* cmd = app.add_subcommand(t.name, std::string(t.description) + " [not built yet]");
    cmd->allow_extras();
    const std::string name = t.name;
    cmd->callback([&exit_code, name] {
      std::cerr << "lnbench " << name << ": this subcommand is not built yet in this version of lnbench.\n"
                << "  Built today: every subcommand of --help. See README.md for the roadmap.\n";
      exit_code = kExitNotBuilt;
    });
  }
}

}  // namespace lnb::harness

extern "C" __attribute__((visibility("default"))) int lnb_torch_main(int argc, char** argv) {
  using namespace lnb::harness;
  CLI::App app{"lnbench: train and evaluate multimodal LLMs, compare tuning strategies", "lnbench"};
  int exit_code = kExitOk;
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", [] { return version_text(); });
  register_score(app, exit_code);
  register_report(app, exit_code);
  register_torch_commands(app, exit_code);
  return run_app(app, exit_code, argc, argv);
}

// The counting CPU allocator for other processes' use (tests/bench/train_compare.py loads
// this library with ctypes so PEFT's training steps are measured by the same counter as
// lnbench's). Bytes of live tensors; peak since the last reset.
extern "C" __attribute__((visibility("default"))) void lnb_memory_install() {
  lnb::training::install_counting_cpu_allocator();
}
extern "C" __attribute__((visibility("default"))) long long lnb_memory_peak_bytes() {
  return lnb::training::read_memory(c10::Device(c10::kCPU)).peak_bytes;
}
extern "C" __attribute__((visibility("default"))) long long lnb_memory_live_bytes() {
  return lnb::training::read_memory(c10::Device(c10::kCPU)).live_bytes;
}
extern "C" __attribute__((visibility("default"))) void lnb_memory_reset_peak() {
  lnb::training::reset_peak_memory(c10::Device(c10::kCPU));
}
