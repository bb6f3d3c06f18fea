// Regressions judged on paired samples against a baseline run: McNemar's exact test
// for yes/no tasks (MME, POPE: per-sample `correct`), a paired bootstrap for graded
// tasks (VQAv2 accuracy, caption CIDEr: per-sample `score`). Thresholds are options;
// every verdict keeps the numbers it rests on, for the report.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "reports/results_store.h"

namespace lnb::reports {

struct RegressionOptions {
  double alpha = 0.01;            // significance level
  double min_delta = 0.005;       // smallest drop that counts (fraction of the metric's scale)
  int bootstrap_resamples = 2000;
  uint64_t seed = 20240101;       // bootstrap RNG seed: verdicts are reproducible
  double pairwise_alpha = 0.05;   // strategy-vs-strategy verdicts within a night (Holm-adjusted p)
};

struct McNemar {
  int64_t n = 0;             // paired samples
  int64_t base_only = 0;     // b: right at baseline, wrong now
  int64_t current_only = 0;  // c: wrong at baseline, right now
  double p_value = 1.0;      // exact two-sided binomial on b + c discordant pairs
};
McNemar mcnemar_exact(const std::vector<bool>& baseline_correct, const std::vector<bool>& current_correct);

struct PairedBootstrap {
  int64_t n = 0;
  double mean_delta = 0;     // mean(current - baseline)
  double p_not_worse = 1.0;  // share of resampled mean deltas >= 0
  double p_not_better = 1.0; // share of resampled mean deltas <= 0
  double p_two_sided() const { return std::min(1.0, 2 * std::min(p_not_worse, p_not_better)); }
};
PairedBootstrap paired_bootstrap(const std::vector<double>& baseline, const std::vector<double>& current,
                                 int resamples, uint64_t seed);

struct Regression {
  std::string model, strategy, task, test;  // test: "mcnemar" | "paired-bootstrap"
  int64_t n_paired = 0;
  double baseline = 0, current = 0;  // mean correctness or mean score on the paired samples
  double p_value = 1.0;
  bool regressed = false;
};

// One verdict per (model, strategy, task) with paired samples (pair_samples()).
std::vector<Regression> find_regressions(const std::vector<PairedTask>& paired, const RegressionOptions& opt);

// Every pair of strategies of one model within one night, per task, on the samples both
// answered (paired by id): McNemar for yes/no tasks, a two-sided paired bootstrap for
// graded ones. p is Holm-adjusted over the pairs of one (model, task), so "distinguishable"
// holds for the whole table at pairwise_alpha.
struct Pairwise {
  std::string model, task, a, b, test;
  int64_t n_paired = 0;
  double a_value = 0, b_value = 0;  // mean correctness (x1) or mean score on the paired samples
  double p_value = 1.0, p_holm = 1.0;
  std::string verdict;              // "<a> > <b>", "<b> > <a>" or "not distinguishable"
};
std::vector<Pairwise> compare_strategies(const RunSamples& run, const RegressionOptions& opt);
// Holm's step-down adjustment, in the input's order.
std::vector<double> holm_adjust(const std::vector<double>& p);
std::string pairwise_csv(const std::string& run_id, const std::vector<Pairwise>& rows);

// Tasks whose samples carry `correct` (judged with McNemar) vs `score` (bootstrap).
bool is_yes_no_task(const std::string& task);

}  // namespace lnb::reports
