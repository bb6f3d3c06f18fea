// lnbench's entry point. Torch-free: runs `score`/`report` in-process and hands
// subcommands that need LibTorch to liblnbench_torch.so, loaded on demand from
// ../lib next to the executable (or LNB_TORCH_PLUGIN).
#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "harness/cli.h"
#include "harness/plugin_path.h"

namespace {

int run_plugin(int argc, char** argv) {
  const std::filesystem::path path = lnb::harness::plugin_path("liblnbench_torch.so", "LNB_TORCH_PLUGIN");
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::cerr << "lnbench: cannot load the LibTorch part of lnbench (" << path.string() << "): " << dlerror()
              << "\n  hint: build the 'lnbench_torch' target, or set LNB_TORCH_PLUGIN to its path\n";
    return lnb::harness::kExitFailure;
  }
  using Main = int (*)(int, char**);
  auto fn = reinterpret_cast<Main>(dlsym(handle, "lnb_torch_main"));
  if (fn == nullptr) {
    std::cerr << "lnbench: " << path.string() << " has no lnb_torch_main\n";
    return lnb::harness::kExitFailure;
  }
  const int rc = fn(argc, argv);
  std::cout.flush();
  // Skip LibTorch's static destructors (hundreds of ms, nothing to flush).
  _exit(rc);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && lnb::harness::needs_torch(argv[1])) return run_plugin(argc, argv);
  CLI::App app{"lnbench: train and evaluate multimodal LLMs, compare tuning strategies", "lnbench"};
  int exit_code = lnb::harness::kExitOk;
  lnb::harness::build_app(app, exit_code);
  return lnb::harness::run_app(app, exit_code, argc, argv);
}
