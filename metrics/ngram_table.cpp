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

namespace {

uint64_t fnv1a(std::string_view w) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : w) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h ^ (h >> 29);
}

}  // namespace

template <typename Slots, typename HashOf>
void NgramTable::grow(Slots& slots, size_t n, const HashOf& hash_of) {
  Slots bigger(slots.size() * 2, 0);
  const size_t mask = bigger.size() - 1;
  for (size_t id = 0; id < n; ++id) {
    size_t s = hash_of(id) & mask;
    while (bigger[s] != 0) s = (s + 1) & mask;
    bigger[s] = static_cast<int32_t>(id + 1);
  }
  slots.swap(bigger);
}

int32_t NgramTable::word_id(std::string_view w) {
  const uint64_t h = fnv1a(w);
  const size_t mask = word_slots_.size() - 1;
  size_t s = h & mask;
  while (word_slots_[s] != 0) {
    const int32_t id = word_slots_[s] - 1;
    if (word_hash_[id] == h) {
      const auto [off, len] = word_span_[id];
      if (std::string_view(arena_).substr(off, len) == w) return id;
    }
    s = (s + 1) & mask;
  }
  const auto id = static_cast<int32_t>(word_span_.size());
  word_span_.emplace_back(static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(w.size()));
  arena_.append(w);
  word_hash_.push_back(h);
  word_slots_[s] = id + 1;
  if (word_span_.size() * 2 > word_slots_.size())
    grow(word_slots_, word_span_.size(), [this](size_t i) { return word_hash_[i]; });
  return id;
}

int32_t NgramTable::ngram_id(const int32_t* words, int n) {
  // Word ids + 1 in 32-bit lanes; 0 marks an absent position, so orders never collide.
  uint64_t lane[4] = {0, 0, 0, 0};
  for (int k = 0; k < n; ++k) lane[k] = static_cast<uint32_t>(words[k]) + 1ULL;
  const Key key{lane[0] | (lane[1] << 32), lane[2] | (lane[3] << 32)};
  const size_t mask = slots_.size() - 1;
  size_t s = hash(key) & mask;
  while (slots_[s] != 0) {
    if (keys_[slots_[s] - 1] == key) return slots_[s] - 1;
    s = (s + 1) & mask;
  }
  const auto id = static_cast<int32_t>(keys_.size());
  keys_.push_back(key);
  seen_in_.push_back(0);
  index_in_.push_back(0);
  slots_[s] = id + 1;
  if (keys_.size() * 2 > slots_.size()) grow(slots_, keys_.size(), [this](size_t i) { return hash(keys_[i]); });
  return id;
}

std::string NgramTable::ngram_text(int32_t id) const {
  const Key& k = keys_.at(static_cast<size_t>(id));
  const uint64_t lane[4] = {k.lo & 0xFFFFFFFFULL, k.lo >> 32, k.hi & 0xFFFFFFFFULL, k.hi >> 32};
  std::string out;
  for (uint64_t l : lane) {
    if (l == 0) break;
    if (!out.empty()) out += ' ';
    const auto [off, len] = word_span_[l - 1];
    out.append(arena_, off, len);
  }
  return out;
}

CaptionCounts NgramTable::count(std::string_view caption) {
  CaptionCounts out;
  // Python str.split(), and whether " "-splitting would agree.
  bool plain = !caption.empty() && caption.front() != ' ' && caption.back() != ' ';
  size_t i = 0, start = std::string_view::npos;
  while (i < caption.size()) {
    const size_t sp = py_space_len(caption, i);
    if (sp > 0) {
      if (sp != 1 || caption[i] != ' ' || start == std::string_view::npos) plain = false;
      if (start != std::string_view::npos) out.words.push_back(word_id(caption.substr(start, i - start)));
      start = std::string_view::npos;
      i += sp;
    } else {
      if (start == std::string_view::npos) start = i;
      ++i;
    }
  }
  if (start != std::string_view::npos) out.words.push_back(word_id(caption.substr(start)));
  out.single_spaced = plain;
  const std::vector<int32_t>& ids = out.words;
  out.n_words = static_cast<int32_t>(ids.size());
  ++call_;
  const size_t len = ids.size();
  out.grams.reserve(len >= 4 ? 4 * len - 6 : 4 * len);
  for (int n = 1; n <= 4; ++n) {
    out.start[n - 1] = static_cast<int32_t>(out.grams.size());
    for (size_t k = 0; k + n <= len; ++k) {
      const int32_t g = ngram_id(&ids[k], n);
      if (seen_in_[g] == call_) {
        ++out.grams[index_in_[g]].count;
      } else {
        seen_in_[g] = call_;
        index_in_[g] = static_cast<int32_t>(out.grams.size());
        out.grams.push_back({g, 1});
      }
    }
  }
  out.start[4] = static_cast<int32_t>(out.grams.size());
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
