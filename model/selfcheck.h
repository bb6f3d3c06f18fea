// `lnbench selfcheck`: exercises every native dependency once, for real, and
// compares each against a slow reference — LibTorch math (matmul, SDPA vs naive
// attention), sentencepiece (train in memory, encode/decode round trip), OpenCV
// (draw, PNG encode/decode, BGR→RGB), and CUDA where a GPU exists.
#pragma once

#include <string>
#include <vector>

namespace lnb::model {

struct CheckResult {
  std::string name;
  bool ok = false;
  bool skipped = false;
  std::string detail;
};

std::vector<CheckResult> run_selfcheck();

}  // namespace lnb::model
