// COCO caption metrics exactly as pycocoevalcap computes them (specs/metrics.md §1):
// BLEU-1..4 (closest reference length, corpus score from summed counts), ROUGE-L
// (beta 1.2) and CIDEr-D (sigma 6, clipping, bigram-count length penalty, x10).
// Inputs are captions already through coco_tokenize (ptb_tokenizer.h).
//
// CaptionAccumulator is the shardable form: add() items with an evaluation-order
// key, merge() shards, compute() sorts by key and scores — so any sharding merges
// to exactly the unsharded result.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace lnb::metrics {

// Where CIDEr's document frequencies come from.
enum class CiderIdf {
  kEvaluatedSet,    // pycocoevalcap: references of the images being scored (default)
  kFixedReference,  // "cider-d-fixed-idf": a fixed reference set, so subsets stay comparable
};

// Document frequencies taken from a fixed reference set (CiderIdf::kFixedReference):
// df[g] = number of images whose reference set contains g; ref_len = ln(#images).
struct FixedIdf {
  std::unordered_map<std::string, int64_t> df;  // n-gram as its words joined by ' '
  double ref_len = 0;
  int64_t n_images = 0;
  static FixedIdf from_references(const std::vector<std::vector<std::string>>& refs_per_image);
};

struct CaptionImageScores {
  std::string image_id;
  std::array<double, 4> bleu{};
  double rouge_l = 0;
  double cider = 0;
};

struct CaptionScores {
  std::array<double, 4> bleu{};  // Bleu_1..Bleu_4
  double rouge_l = 0;
  double cider = 0;              // x1 scale (pycocoevalcap); reports may also show x100
  int64_t n_images = 0;
  std::string idf_mode;          // "evaluated-set" or "fixed-reference"
  std::vector<CaptionImageScores> per_image;  // in evaluation order
};

class CaptionAccumulator {
 public:
  // `order` fixes the evaluation order (pycocoevalcap: annotation-file image order).
  // Throws std::invalid_argument when refs is empty.
  void add(int64_t order, std::string image_id, std::string candidate, std::vector<std::string> refs);
  void merge(const CaptionAccumulator& other);
  size_t size() const { return items_.size(); }
  // Throws std::invalid_argument for a duplicated order key or, for the evaluated-set
  // IDF, a set whose references are all empty (pycocoevalcap's max() of an empty set).
  CaptionScores compute(CiderIdf idf = CiderIdf::kEvaluatedSet, const FixedIdf* fixed = nullptr) const;

 private:
  struct Item {
    int64_t order;
    std::string image_id;
    std::string candidate;
    std::vector<std::string> refs;
  };
  std::vector<Item> items_;
};

// The corrected variant would use exp(); pycocoevalcap uses np.e ** x, which differs in
// the last bit for many x. Exposed for tests.
double cider_length_penalty(double delta, double sigma = 6.0);

}  // namespace lnb::metrics
