// POPE scoring (specs/metrics.md §3) over parsed answers: accuracy, precision,
// recall, F1 and yes-ratio, TP/FP/TN/FN, the unparseable rate. A zero division
// yields an empty optional with a note instead of a crash. Parsing the model's text
// into yes/no is tasks/'s job (tasks/pope_parse.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "metrics/intervals.h"

namespace lnb::metrics {

enum class YesNo : int8_t { kNo = 0, kYes = 1, kUnparseable = -1 };

struct PopeScores {
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  int64_t n_answers = 0;      // every answer, scored or not
  int64_t n_scored = 0;       // answers paired with a label
  int64_t n_unparseable = 0;
  std::optional<double> accuracy, precision, recall, f1, yes_ratio;
  double unparseable_rate = 0;
  std::vector<std::string> notes;  // e.g. "precision undefined: no yes predictions"
};

// The counts a PopeScores is computed from; one answer contributes one unit of them.
struct PopeCounts {
  int64_t tp = 0, fp = 0, tn = 0, fn = 0, n_answers = 0, n_scored = 0, n_yes = 0, n_unparseable = 0;
  void add(const PopeCounts& o, int64_t times = 1);
};
// The reference's arithmetic over counts (PopeAccumulator::compute and the bootstrap).
PopeScores pope_scores(const PopeCounts& c);

class PopeAccumulator {
 public:
  // label: the ground truth ("no" -> kNo, anything else -> kYes, as the reference);
  // pred: the parsed answer; pass label=nullopt for an answer without a label (the
  // reference's zip truncation still counts it in yes_ratio).
  void add(int64_t order, std::optional<YesNo> label, YesNo pred);
  void merge(const PopeAccumulator& other);
  PopeScores compute() const;
  // Each answer's contribution, in add() order: the units a bootstrap resamples.
  std::vector<PopeCounts> unit_counts() const;

 private:
  struct Row {
    int64_t order;
    std::optional<YesNo> label;
    YesNo pred;
  };
  std::vector<Row> rows_;
};

struct PopeIntervals {
  std::vector<std::optional<Interval>> f1, accuracy;  // per split, in the order given
  std::optional<Interval> f1_mean;
};
// F1 (and the mean F1) by a bootstrap stratified by split; accuracy by Wilson.
PopeIntervals pope_intervals(const std::vector<const PopeAccumulator*>& splits, const BootstrapOptions& opt);

// Mean F1 over splits (LLaVA-1.5's headline POPE number); nullopt if any split's F1 is.
std::optional<double> pope_mean_f1(const std::vector<PopeScores>& splits);

}  // namespace lnb::metrics
