// See report.h.
#include "reports/report.h"

#include <fstream>
#include <set>

#include "common/file_io.h"
#include "reports/html_report.h"
#include "reports/leaderboard.h"
#include "reports/results_store.h"

namespace lnb::reports {
namespace {

void write_atomically(const std::filesystem::path& path, const std::string& text) {
  common::write_file_atomic(path, text);  // EnvironmentError (disk): exit 1, not bad input
}

}  // namespace

ReportSummary write_report(const ReportOptions& opt, const Thumbnailer& thumbnail) {
  const std::vector<Run> runs = read_store(opt.root);
  if (runs.empty()) throw StoreError(opt.root.string() + ": no run (a folder with run.json) in this results store");
  const std::vector<Row> rows = build_rows(runs);
  ReportInputs in;
  in.runs = &runs;
  in.rows = &rows;
  in.current = &runs.back();
  in.options = opt.regression;
  if (!opt.baseline_run_id.empty()) {
    for (const Run& r : runs)
      if (r.run_id == opt.baseline_run_id) in.baseline = &r;
    if (!in.baseline) throw StoreError("--baseline " + opt.baseline_run_id + ": no such run in " + opt.root.string());
  } else if (runs.size() >= 2) {
    in.baseline = &runs[runs.size() - 2];
  }
  const RunSamples current_samples = read_run_samples(*in.current);
  in.samples = &current_samples;
  in.thumbnail = thumbnail;
  const std::vector<PairedTask> paired = in.baseline ? pair_samples(*in.baseline, current_samples) : std::vector<PairedTask>{};
  in.regressions = find_regressions(paired, opt.regression);
  in.pairwise = compare_strategies(current_samples, opt.regression);

  std::filesystem::create_directories(opt.out);
  ReportSummary s;
  s.n_runs = runs.size();
  s.n_rows = rows.size();
  s.current_run = in.current->run_id;
  s.baseline_run = in.baseline ? in.baseline->run_id : "";
  s.n_compared = in.regressions.size();
  for (const Regression& r : in.regressions) s.n_regressions += r.regressed;
  write_atomically(opt.out / "leaderboard.csv", leaderboard_csv(rows));
  write_atomically(opt.out / "pairwise.csv", pairwise_csv(in.current->run_id, in.pairwise));
  in.seed_spreads = seed_spreads(rows, in.current->run_id);
  write_atomically(opt.out / "seed_spread.csv", seed_spread_csv(in.current->run_id, in.seed_spreads));
  for (const Pairwise& p : in.pairwise) s.n_distinguishable += p.verdict != "not distinguishable";
  s.n_pairs = in.pairwise.size();
  std::set<std::string> tasks;
  for (const Cell& c : in.current->cells)
    for (const auto& [t, r] : c.tasks) tasks.insert(t);
  for (const std::string& t : tasks) {
    const std::vector<Flip> flips = find_flips(paired, t);
    write_atomically(opt.out / task_page_name(t), render_task_page(in, t, flips));
    ++s.n_pages;
  }
  write_atomically(opt.out / "index.html", render_index(in));
  return s;
}

}  // namespace lnb::reports
