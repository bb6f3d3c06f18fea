// Interned n-grams (1..4 words) of whitespace-tokenized captions, shared by BLEU and
// CIDEr. A caption's counts keep pycocoevalcap's dict insertion order — order n
// first, then position of first occurrence — because CIDEr's float sums run in it.
// Built for speed: words and n-grams live in open-addressing tables, a caption's
// counts in one flat array.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lnb::metrics {

struct NgramCount {
  int32_t id;     // interned n-gram
  int32_t count;  // occurrences in the caption
};

// Counts of one caption.
struct CaptionCounts {
  int32_t n_words = 0;
  std::vector<NgramCount> grams;  // orders 1..4 back to back, insertion order within each
  int32_t start[5] = {0, 0, 0, 0, 0};
  std::vector<int32_t> words;     // word ids, Python str.split()
  // The caption splits identically on " " (ROUGE-L) and on whitespace runs (BLEU,
  // CIDEr): no other whitespace, no leading, trailing or doubled space, not empty.
  bool single_spaced = false;
  // Order n = 0..3 (unigrams .. 4-grams).
  std::span<const NgramCount> order(int n) const {
    return {grams.data() + start[n], static_cast<size_t>(start[n + 1] - start[n])};
  }
};

class NgramTable {
 public:
  CaptionCounts count(std::string_view caption);
  // Words split like Python str.split(" ") (single spaces; "" gives one empty word) as ids.
  std::vector<int32_t> split_single_space_ids(std::string_view caption);
  size_t n_ngrams() const { return keys_.size(); }
  // The n-gram's words joined by single spaces.
  std::string ngram_text(int32_t id) const;

 private:
  int32_t word_id(std::string_view w);
  int32_t ngram_id(const int32_t* words, int n);

  struct Key {
    uint64_t lo, hi;
    bool operator==(const Key&) const = default;
  };
  static uint64_t hash(const Key& k) {
    uint64_t h = k.lo * 0x9E3779B97F4A7C15ULL ^ (k.hi + 0x632BE59BD9B4E019ULL);
    return h ^ (h >> 31);
  }
  template <typename Slots, typename HashOf>
  static void grow(Slots& slots, size_t n, const HashOf& hash_of);

  // Words: text in one arena; slot -> word id + 1 (0 = empty).
  std::string arena_;
  std::vector<std::pair<uint32_t, uint32_t>> word_span_;  // (offset, length) in arena_
  std::vector<uint64_t> word_hash_;
  std::vector<int32_t> word_slots_ = std::vector<int32_t>(1 << 12, 0);
  // N-grams: slot -> ngram id + 1.
  std::vector<int32_t> slots_ = std::vector<int32_t>(1 << 12, 0);
  std::vector<Key> keys_;
  // Per n-gram: the count() call that last saw it and its index in that call's list.
  std::vector<uint32_t> seen_in_;
  std::vector<int32_t> index_in_;
  uint32_t call_ = 0;
};

// Python's str.split() word boundaries over UTF-8 text.
std::vector<std::string_view> python_split(std::string_view s);

}  // namespace lnb::metrics
