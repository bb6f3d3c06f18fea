// Words and n-grams (1..4 words) of whitespace-tokenized captions, shared by BLEU and
// CIDEr, built for speed on many cores:
//   - WordTable interns words exactly (serial; a small table that stays in cache);
//   - an n-gram is its word ids packed into a 128-bit key (exact, no interning), so
//     captions are counted independently in parallel;
//   - DfTable counts document frequencies in hash shards filled in parallel.
// A caption's counts keep pycocoevalcap's dict insertion order — order n first, then
// position of first occurrence — because CIDEr's float sums run in it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lnb::metrics {

struct NgramKey {
  uint64_t lo = 0, hi = 0;  // word ids + 1 in 32-bit lanes; 0 = no word
  bool operator==(const NgramKey&) const = default;
  auto operator<=>(const NgramKey&) const = default;
};

inline uint64_t ngram_hash(const NgramKey& k) {
  uint64_t h = (k.lo ^ (k.hi * 0xC2B2AE3D27D4EB4FULL)) * 0x9E3779B97F4A7C15ULL;
  return h ^ (h >> 29);
}

struct NgramCount {
  NgramKey key;
  int32_t count;
};

// One caption: its word ids and n-gram counts.
struct CaptionCounts {
  std::vector<int32_t> words;     // Python str.split()
  // The caption splits identically on " " (ROUGE-L) and on whitespace runs (BLEU,
  // CIDEr): no other whitespace, no leading, trailing or doubled space, not empty.
  bool single_spaced = false;
  std::vector<NgramCount> grams;  // orders 1..4 back to back, insertion order within each
  int32_t start[5] = {0, 0, 0, 0, 0};
  int32_t n_words() const { return static_cast<int32_t>(words.size()); }
  std::span<const NgramCount> order(int n) const {  // n = 0..3
    return {grams.data() + start[n], static_cast<size_t>(start[n + 1] - start[n])};
  }
};

// Fills c.grams/c.start from c.words. Pure: safe to call from many threads.
void count_ngrams(CaptionCounts& c);

class WordTable {
 public:
  // Python str.split() word ids of `caption` into c.words, and c.single_spaced.
  void split(std::string_view caption, CaptionCounts& c);
  // Python str.split(" ") (single spaces; "" gives one empty word) as ids.
  std::vector<int32_t> split_single_space(std::string_view caption);
  // The n-gram's words joined by single spaces.
  std::string text(const NgramKey& key) const;

 private:
  int32_t word_id(std::string_view w);
  std::string arena_;                                     // all words back to back
  std::vector<std::pair<uint32_t, uint32_t>> word_span_;  // (offset, length) in arena_
  std::vector<uint64_t> word_hash_;
  std::vector<int32_t> slots_ = std::vector<int32_t>(1 << 12, 0);  // word id + 1, 0 = empty
};

// n-gram key -> document frequency, split into shards by hash so that shards fill in
// parallel; after finish(), lookups are read-only and thread-safe.
class DfTable {
 public:
  // `expected_keys` (all shards together) pre-sizes the tables: no rehashing.
  DfTable(size_t n_shards, size_t expected_keys);
  size_t n_shards() const { return shards_.size(); }
  size_t shard_of(const NgramKey& k) const { return (ngram_hash(k) >> 40) % shards_.size(); }
  void add(size_t shard, const NgramKey& k, int64_t count = 1);  // one thread per shard
  void finish();                       // precomputes log(max(1, df)) per entry
  int64_t df(const NgramKey& k) const;  // 0 when absent
  double log_df(const NgramKey& k) const;  // np.log(max(1.0, df))
  int64_t max_df() const;

 private:
  struct Entry {
    NgramKey key;
    int64_t df;
    double log_df;
  };
  struct Shard {
    std::vector<int32_t> slots = std::vector<int32_t>(1 << 10, 0);  // entry index + 1
    std::vector<Entry> entries;
  };
  const Entry* find(const NgramKey& k) const;
  std::vector<Shard> shards_;
};

// Python's str.split() word boundaries over UTF-8 text.
std::vector<std::string_view> python_split(std::string_view s);

}  // namespace lnb::metrics
