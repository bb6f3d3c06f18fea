// See ngram_table.h.
#include "metrics/ngram_table.h"

#include <algorithm>

namespace lnb::metrics {
namespace {

// Length of the whitespace character at s[i] per Python's str.isspace(), else 0.
size_t py_space_len(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) return 1;
  if (c < 0xC2) return 0;
  auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0; };
  if (c == 0xC2 && (at(1) == 0x85 || at(1) == 0xA0)) return 2;                     // U+0085, U+00A0
  if (c == 0xE1 && at(1) == 0x9A && at(2) == 0x80) return 3;                       // U+1680
  if (c == 0xE2 && at(1) == 0x80 && (at(2) <= 0x8A || at(2) == 0xA8 || at(2) == 0xA9 || at(2) == 0xAF))
    return 3;                                                                      // U+2000-200A, 2028, 2029, 202F
  if (c == 0xE2 && at(1) == 0x81 && at(2) == 0x9F) return 3;                       // U+205F
  if (c == 0xE3 && at(1) == 0x80 && at(2) == 0x80) return 3;                       // U+3000
  return 0;
}

}  // namespace

std::vector<std::string_view> python_split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  size_t start = std::string_view::npos;
  while (i < s.size()) {
    const size_t sp = py_space_len(s, i);
    if (sp > 0) {
      if (start != std::string_view::npos) out.push_back(s.substr(start, i - start));
      start = std::string_view::npos;
      i += sp;
    } else {
      if (start == std::string_view::npos) start = i;
      ++i;
    }
  }
  if (start != std::string_view::npos) out.push_back(s.substr(start));
  return out;
}

int32_t NgramTable::word_id(std::string_view w) {
  auto it = words_.find(std::string(w));
  if (it != words_.end()) return it->second;
  const auto id = static_cast<int32_t>(word_text_.size());
  word_text_.emplace_back(w);
  words_.emplace(word_text_.back(), id);
  return id;
}

int32_t NgramTable::ngram_id(const int32_t* words, int n) {
  // Word ids + 1 in 32-bit lanes; 0 marks an absent position, so orders never collide.
  uint64_t lane[4] = {0, 0, 0, 0};
  for (int k = 0; k < n; ++k) lane[k] = static_cast<uint32_t>(words[k]) + 1ULL;
  const Key key{lane[0] | (lane[1] << 32), lane[2] | (lane[3] << 32)};
  auto [it, inserted] = ngrams_.try_emplace(key, static_cast<int32_t>(keys_.size()));
  if (inserted) keys_.push_back(key);
  return it->second;
}

std::string NgramTable::ngram_text(int32_t id) const {
  const Key& k = keys_.at(static_cast<size_t>(id));
  const uint64_t lane[4] = {k.lo & 0xFFFFFFFFULL, k.lo >> 32, k.hi & 0xFFFFFFFFULL, k.hi >> 32};
  std::string out;
  for (uint64_t l : lane) {
    if (l == 0) break;
    if (!out.empty()) out += ' ';
    out += word_text_[l - 1];
  }
  return out;
}

CaptionCounts NgramTable::count(std::string_view caption) {
  CaptionCounts out;
  std::vector<int32_t> ids;
  for (std::string_view w : python_split(caption)) ids.push_back(word_id(w));
  out.n_words = static_cast<int32_t>(ids.size());
  for (int n = 1; n <= 4; ++n) {
    auto& vec = out.by_order[n - 1];
    for (size_t i = 0; i + n <= ids.size(); ++i) {
      const int32_t g = ngram_id(&ids[i], n);
      auto it = std::find_if(vec.begin(), vec.end(), [g](const NgramCount& c) { return c.id == g; });
      if (it == vec.end()) vec.push_back({g, 1});
      else ++it->count;
    }
  }
  return out;
}

std::vector<int32_t> NgramTable::split_single_space_ids(std::string_view caption) {
  std::vector<int32_t> out;
  size_t start = 0;
  while (true) {
    const size_t sp = caption.find(' ', start);
    out.push_back(word_id(caption.substr(start, sp == std::string_view::npos ? sp : sp - start)));
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  return out;
}

}  // namespace lnb::metrics
