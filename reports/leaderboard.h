// The leaderboard: one row per (run, model, strategy) with task scores next to
// trainable parameters and memory. Columns are stable and documented once, here
// (kColumns), and drive both leaderboard.csv and the HTML table.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reports/results_store.h"

namespace lnb::reports {

// How a value reads in the HTML (the CSV keeps the raw number).
enum class Unit { kScore, kCount, kBytes, kPercent, kSeconds, kRate };

struct Column {
  const char* name;         // CSV header, stable
  const char* description;  // documentation and HTML tooltip
  bool higher_is_better;
  bool score;               // part of the normalized average
  Unit unit = Unit::kScore;
  bool has_interval = false;  // metrics.json carries a 95 % interval: CSV <name>_lo95, <name>_hi95
};

// In CSV order (after run_id, date, git_sha, model, strategy).
const std::vector<Column>& leaderboard_columns();

struct Row {
  std::string run_id, date, git_sha, model, strategy;
  std::vector<std::optional<double>> values;  // parallel to leaderboard_columns()
  std::string source;                         // Cell::source: an external checkpoint's kind, else ""
  std::vector<std::optional<Range>> intervals;  // parallel to leaderboard_columns(): 95 % where known
};

// Rows of every run. avg_normalized_score: each score column divided by its best value
// among the rows of the same run, x100, averaged over the row's available scores.
std::vector<Row> build_rows(const std::vector<Run>& runs);

// index of a column by name; throws std::out_of_range for an unknown one.
size_t column_index(const std::string& name);

// The raw values, then <name>_lo95,<name>_hi95 for every column with an interval (after
// all value columns, so the value columns keep their positions).
std::string leaderboard_csv(const std::vector<Row>& rows);

// The spread of one headline score across the seeds of one strategy in one night
// (train.seeds: cells "<strategy>" and "<strategy>~seed<N>"), beside the within-sample
// interval. `larger` says which moves the score more: "seeds" when the across-seed
// standard deviation exceeds the mean within-sample standard error (95 % half-width /
// 1.96), else "sampling"; "" when no cell has an interval.
struct SeedSpread {
  std::string model, strategy, column;
  std::vector<std::string> cells;
  double mean = 0, sd = 0, min = 0, max = 0;
  std::optional<double> sampling_half_width;  // mean over the seeds of (hi - lo) / 2
  std::string larger;
};
std::vector<SeedSpread> seed_spreads(const std::vector<Row>& rows, const std::string& run_id);
std::string seed_spread_csv(const std::string& run_id, const std::vector<SeedSpread>& spreads);
// "ln~seed7" -> "ln"; a name without the suffix is itself.
std::string seedless(const std::string& cell);

// A value as a person reads it: 1.2 M parameters, 143.2 MiB, 3.78 %, 2 min 5 s.
std::string human_value(double v, Unit unit);

}  // namespace lnb::reports
