// Interned n-grams (1..4 words) of whitespace-tokenized captions, shared by BLEU and
// CIDEr. A caption's counts keep pycocoevalcap's dict insertion order — order n
// first, then position of first occurrence — because CIDEr's float sums run in it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lnb::metrics {

struct NgramCount {
  int32_t id;     // interned n-gram
  int32_t count;  // occurrences in the caption
};

// Counts of one caption, in insertion order, split by order n = 1..4.
struct CaptionCounts {
  int32_t n_words = 0;
  std::vector<NgramCount> by_order[4];
};

class NgramTable {
 public:
  // Python str.split(): runs of whitespace (incl. U+00A0 and other Unicode spaces) separate words.
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
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept {
      return static_cast<size_t>((k.lo * 0x9E3779B97F4A7C15ULL) ^ (k.hi + 0x632BE59BD9B4E019ULL + (k.lo >> 29)));
    }
  };
  std::unordered_map<std::string, int32_t> words_;
  std::vector<std::string> word_text_;
  std::unordered_map<Key, int32_t, KeyHash> ngrams_;
  std::vector<Key> keys_;
};

// Python's str.split() word boundaries over UTF-8 text.
std::vector<std::string_view> python_split(std::string_view s);

}  // namespace lnb::metrics
