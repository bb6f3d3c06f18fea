// `lnbench report`: reads a results store and writes leaderboard.csv, index.html and
// one page per task into an output folder (each file written to a temporary name and
// renamed, so a reader never sees half a report).
#pragma once

#include <filesystem>
#include <string>

#include "reports/html_report.h"
#include "reports/regression.h"

namespace lnb::reports {

struct ReportOptions {
  std::filesystem::path root, out;
  std::string baseline_run_id;  // empty: the run before the newest
  RegressionOptions regression;
};

struct ReportSummary {
  size_t n_runs = 0, n_rows = 0, n_pages = 0, n_regressions = 0, n_compared = 0;
  size_t n_pairs = 0, n_distinguishable = 0;  // strategy pairs compared within the newest night
  std::string current_run, baseline_run;
};

// Throws StoreError for a bad store or an unknown --baseline. `thumbnail` makes the
// sample browser's images (empty: embed_small_image).
ReportSummary write_report(const ReportOptions& opt, const Thumbnailer& thumbnail = {});

}  // namespace lnb::reports
