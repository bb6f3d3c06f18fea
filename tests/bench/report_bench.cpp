// lnbench report at nightly scale: 365 nights x 10 strategies x 5 tasks (18,250
// metrics.json files), read, aggregated and rendered (CSV, index.html, task pages,
// regressions and flips of the last two nights on 200 samples per task).
// Target (issue 8): under 2 s.
#include <benchmark/benchmark.h>

#include "reports/report.h"
#include "../reports/store_fixture.h"

namespace {

const std::filesystem::path& store() {
  static const std::filesystem::path root = [] {
    const auto r = std::filesystem::temp_directory_path() / "lnb_report_bench_store";
    if (!std::filesystem::exists(r / "done")) {
      std::filesystem::remove_all(r);
      lnb::reports::test::FixtureOptions o;
      o.n_runs = 365;
      o.strategies = {"connector", "ln", "ln-simple", "lora", "full", "attn-qv", "attn-mlp", "lora-r8", "ln-r2", "bitfit"};
      o.n_samples = 200;
      o.samples_last_runs = 2;  // the report reads samples of the last two nights only
      lnb::reports::test::write_store(r, o);
      lnb::reports::test::write(r / "done", "");
    }
    return r;
  }();
  return root;
}

void BM_Report365x10x5(benchmark::State& state) {
  const auto& root = store();
  const auto out = std::filesystem::temp_directory_path() / "lnb_report_bench_out";
  for (auto _ : state) {
    const auto s = lnb::reports::write_report({root, out, "", {}});
    benchmark::DoNotOptimize(s.n_rows);
  }
  state.counters["metrics_files"] = 365.0 * 10 * 5;
}
BENCHMARK(BM_Report365x10x5)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
