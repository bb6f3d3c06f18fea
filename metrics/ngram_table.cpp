// See ngram_table.h.
#include "metrics/ngram_table.h"

#include <algorithm>
#include <cmath>

namespace lnb::metrics {
namespace {

// Length of the whitespace character at s[i] per Python's str.isspace(), else 0.
inline size_t py_space_len(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c > ' ' && c < 0x80) return 0;  // the common case: a printable ASCII byte
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

// Calls on_word for each word of Python's str.split(); returns whether the text is
// single-spaced (str.split(" ") would agree): not empty, and every separator one ' '
// between two words.
template <typename OnWord>
bool for_each_python_word(std::string_view s, OnWord&& on_word) {
  bool plain = !s.empty() && s.front() != ' ' && s.back() != ' ';
  size_t i = 0, start = std::string_view::npos;
  while (i < s.size()) {
    const size_t sp = py_space_len(s, i);
    if (sp > 0) {
      if (sp != 1 || s[i] != ' ' || start == std::string_view::npos) plain = false;
      if (start != std::string_view::npos) on_word(s.substr(start, i - start));
      start = std::string_view::npos;
      i += sp;
    } else {
      if (start == std::string_view::npos) start = i;
      ++i;
    }
  }
  if (start != std::string_view::npos) on_word(s.substr(start));
  return plain;
}

}  // namespace

std::vector<std::string_view> python_split(std::string_view s) {
  std::vector<std::string_view> out;
  for_each_python_word(s, [&out](std::string_view w) { out.push_back(w); });
  return out;
}

namespace {

uint64_t fnv1a(std::string_view w) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : w) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h ^ (h >> 29);
}

NgramKey make_key(const int32_t* words, int n) {
  uint64_t lane[4] = {0, 0, 0, 0};
  for (int k = 0; k < n; ++k) lane[k] = static_cast<uint32_t>(words[k]) + 1ULL;
  return {lane[0] | (lane[1] << 32), lane[2] | (lane[3] << 32)};
}

}  // namespace

void count_ngrams(CaptionCounts& c) {
  const std::vector<int32_t>& ids = c.words;
  const size_t len = ids.size();
  c.grams.clear();
  c.grams.reserve(len >= 4 ? 4 * len - 6 : 4 * len);
  for (int n = 1; n <= 4; ++n) {
    const int32_t begin = static_cast<int32_t>(c.grams.size());
    c.start[n - 1] = begin;
    for (size_t k = 0; k + n <= len; ++k) {
      const NgramKey key = make_key(&ids[k], n);
      // A caption has a few dozen n-grams: a local scan is the fastest lookup.
      int32_t m = begin;
      const int32_t end = static_cast<int32_t>(c.grams.size());
      while (m < end && !(c.grams[m].key == key)) ++m;
      if (m < end) ++c.grams[m].count;
      else c.grams.push_back({key, 1});
    }
  }
  c.start[4] = static_cast<int32_t>(c.grams.size());
}

int32_t WordTable::word_id(std::string_view w) {
  const uint64_t h = fnv1a(w);
  size_t mask = slots_.size() - 1;
  size_t s = h & mask;
  while (slots_[s] != 0) {
    const int32_t id = slots_[s] - 1;
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
  slots_[s] = id + 1;
  if (word_span_.size() * 2 > slots_.size()) {
    std::vector<int32_t> bigger(slots_.size() * 2, 0);
    mask = bigger.size() - 1;
    for (size_t i = 0; i < word_hash_.size(); ++i) {
      size_t t = word_hash_[i] & mask;
      while (bigger[t] != 0) t = (t + 1) & mask;
      bigger[t] = static_cast<int32_t>(i + 1);
    }
    slots_.swap(bigger);
  }
  return id;
}

void WordTable::split(std::string_view caption, CaptionCounts& c) {
  c.words.clear();
  c.single_spaced = for_each_python_word(caption, [&](std::string_view w) { c.words.push_back(word_id(w)); });
}

std::vector<int32_t> WordTable::split_single_space(std::string_view caption) {
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

std::string WordTable::text(const NgramKey& k) const {
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

DfTable::DfTable(size_t n_shards, size_t expected_keys) : shards_(std::max<size_t>(1, n_shards)) {
  size_t slots = 1024;
  while (slots < 2 * expected_keys / shards_.size() + 1) slots *= 2;
  for (Shard& sh : shards_) {
    sh.slots.assign(slots, 0);
    sh.entries.reserve(slots / 2);
  }
}

void DfTable::add(size_t shard, const NgramKey& k, int64_t count) {
  Shard& sh = shards_[shard];
  size_t mask = sh.slots.size() - 1;
  size_t s = ngram_hash(k) & mask;
  while (sh.slots[s] != 0) {
    Entry& e = sh.entries[sh.slots[s] - 1];
    if (e.key == k) {
      e.df += count;
      return;
    }
    s = (s + 1) & mask;
  }
  sh.entries.push_back({k, count, 0.0});
  sh.slots[s] = static_cast<int32_t>(sh.entries.size());
  if (sh.entries.size() * 2 > sh.slots.size()) {
    std::vector<int32_t> bigger(sh.slots.size() * 2, 0);
    mask = bigger.size() - 1;
    for (size_t i = 0; i < sh.entries.size(); ++i) {
      size_t t = ngram_hash(sh.entries[i].key) & mask;
      while (bigger[t] != 0) t = (t + 1) & mask;
      bigger[t] = static_cast<int32_t>(i + 1);
    }
    sh.slots.swap(bigger);
  }
}

void DfTable::finish() {
  for (Shard& sh : shards_)
    for (Entry& e : sh.entries) e.log_df = std::log(std::max(1.0, static_cast<double>(e.df)));
}

const DfTable::Entry* DfTable::find(const NgramKey& k) const {
  const Shard& sh = shards_[shard_of(k)];
  const size_t mask = sh.slots.size() - 1;
  size_t s = ngram_hash(k) & mask;
  while (sh.slots[s] != 0) {
    const Entry& e = sh.entries[sh.slots[s] - 1];
    if (e.key == k) return &e;
    s = (s + 1) & mask;
  }
  return nullptr;
}

int64_t DfTable::df(const NgramKey& k) const {
  const Entry* e = find(k);
  return e ? e->df : 0;
}

double DfTable::log_df(const NgramKey& k) const {
  const Entry* e = find(k);
  return e ? e->log_df : 0.0;  // log(max(1, 0)) = 0
}

int64_t DfTable::max_df() const {
  int64_t m = 0;
  for (const Shard& sh : shards_)
    for (const Entry& e : sh.entries) m = std::max(m, e.df);
  return m;
}

}  // namespace lnb::metrics
