// The self-contained HTML report: index.html (sortable leaderboard; charts of score
// against trainable parameters, peak memory per strategy and each metric's trend
// across nights; regressions) and one page per task (per-split numbers, metric
// definitions and prompt assets, flipped answers against the previous night).
// No network: inline CSS, SVG and JS, and a Content-Security-Policy that forbids
// loading anything. Every string from the results store goes through html_escape.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "reports/leaderboard.h"
#include "reports/regression.h"
#include "reports/results_store.h"

namespace lnb::reports {

struct Flip {
  std::string model, strategy, id, prompt, before, after;
};

// Paired samples of `task` whose parsed answer (or raw answer) changed.
std::vector<Flip> find_flips(const std::vector<PairedTask>& paired, const std::string& task);

struct ReportInputs {
  const std::vector<Run>* runs = nullptr;  // sorted by date
  const std::vector<Row>* rows = nullptr;
  const Run* current = nullptr;            // the newest run
  const Run* baseline = nullptr;           // for regressions and flips; may be null
  std::vector<Regression> regressions;
  std::vector<Pairwise> pairwise;          // strategies compared within the current night
  std::vector<SeedSpread> seed_spreads;    // strategies trained with several seeds (current night)
  RegressionOptions options;
};

std::string render_index(const ReportInputs& in);
std::string render_task_page(const ReportInputs& in, const std::string& task, const std::vector<Flip>& flips);

// A file-name-safe form of a task name ("task_<name>.html").
std::string task_page_name(const std::string& task);

}  // namespace lnb::reports
