// `lnbench --version` and `lnbench selfcheck`.
#include <iostream>
#include <sstream>

#include "harness/build_info.h"
#include "harness/cli.h"
#include "model/runtime_info.h"
#include "model/selfcheck.h"

namespace lnb::harness {

std::string version_text() {
  const model::RuntimeInfo info = model::runtime_info();
  std::ostringstream out;
  out << "lnbench " << kLnbVersion << " (git " << kLnbGitSha << ")\n"
      << "torch " << info.torch_version << "\n"
      << "cuda: compiled " << (info.cuda_compiled ? "yes" : "no") << ", available "
      << (info.cuda_available ? "yes" : "no") << ", gpus " << info.gpu_count;
  if (!info.gpu_name.empty()) out << " (" << info.gpu_name << ")";
  out << "\nlnbench cuda sources: " << (info.own_cuda_sources ? "built" : "not built") << "\n"
      << "nccl " << (info.nccl_version.empty() ? "not loaded" : info.nccl_version) << "\n"
      << "opencv " << info.opencv_version << "\n"
      << "sentencepiece " << info.sentencepiece_version << "\n";
  return out.str();
}

void register_selfcheck(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("selfcheck", "Exercise every native dependency against a slow reference");
  cmd->callback([&exit_code] {
    std::cout << version_text();
    int failed = 0;
    for (const model::CheckResult& r : model::run_selfcheck()) {
      const char* tag = r.skipped ? "SKIP" : (r.ok ? "ok  " : "FAIL");
      std::cout << tag << "  " << r.name << ": " << r.detail << "\n";
      if (!r.ok) ++failed;
    }
    exit_code = failed == 0 ? kExitOk : kExitFailure;
  });
}

}  // namespace lnb::harness
