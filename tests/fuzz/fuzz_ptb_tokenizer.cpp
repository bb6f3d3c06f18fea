// The PTB tokenizer on arbitrary bytes (invalid UTF-8 included). Invariants: no
// crash, deterministic, one output per caption, no line breaks or double spaces in
// the output, and tokenizing twice is stable token by token.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "metrics/ptb_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> captions;
  size_t start = 0;
  while (true) {
    const size_t nl = text.find('\x1e', start);  // record separator: many captions per input
    captions.push_back(text.substr(start, nl == std::string::npos ? nl : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  const auto a = lnb::metrics::coco_tokenize(captions);
  const auto b = lnb::metrics::coco_tokenize(captions);
  if (a != b || a.size() != captions.size()) std::abort();
  for (const std::string& t : a) {
    if (t.find('\n') != std::string::npos || t.find("  ") != std::string::npos) std::abort();
    if (!t.empty() && (t.front() == ' ' || t.back() == ' ')) std::abort();
  }
  (void)lnb::metrics::ptb_tokenize_line(text, text);
  return 0;
}
