// Statistics by hand, the leaderboard's columns, schema errors, and whole reports on
// synthetic stores (a planted regression must be found; identical nights must not be).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "reports/leaderboard.h"
#include "reports/regression.h"
#include "reports/report.h"
#include "reports/results_store.h"
#include "store_fixture.h"

namespace lnb::reports {
namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("lnb_report_test_" + name);
  fs::remove_all(d);
  return d;
}

TEST(McNemar, ExactTwoSidedByHand) {
  // b = 5 (baseline right, now wrong), c = 0: p = 2 * P(X <= 0), X ~ Bin(5, 1/2) = 2/32 = 0.0625.
  std::vector<bool> base(20, true), cur(20, true);
  for (int i = 0; i < 5; ++i) cur[i] = false;
  auto m = mcnemar_exact(base, cur);
  EXPECT_EQ(m.base_only, 5);
  EXPECT_EQ(m.current_only, 0);
  EXPECT_NEAR(m.p_value, 0.0625, 1e-12);
  // b = 10, c = 2: p = 2 * (C(12,0) + C(12,1) + C(12,2)) / 2^12 = 2 * 79 / 4096.
  std::vector<bool> b2(30, true), c2(30, true);
  for (int i = 0; i < 10; ++i) c2[i] = false;
  b2[20] = b2[21] = false;
  m = mcnemar_exact(b2, c2);
  EXPECT_NEAR(m.p_value, 158.0 / 4096.0, 1e-12);
  // No discordant pairs: p = 1.
  EXPECT_EQ(mcnemar_exact(base, base).p_value, 1.0);
}

TEST(PairedBootstrap, SignOfTheDeltas) {
  const std::vector<double> base(50, 1.0), worse(50, 0.5), same(50, 1.0);
  EXPECT_EQ(paired_bootstrap(base, worse, 500, 1).p_not_worse, 0.0);
  EXPECT_EQ(paired_bootstrap(base, same, 500, 1).p_not_worse, 1.0);
  EXPECT_DOUBLE_EQ(paired_bootstrap(base, worse, 10, 1).mean_delta, -0.5);
  // Reproducible for a seed.
  std::vector<double> noisy(50);
  for (int i = 0; i < 50; ++i) noisy[i] = (i % 3) * 0.5;
  EXPECT_EQ(paired_bootstrap(base, noisy, 300, 9).p_not_worse, paired_bootstrap(base, noisy, 300, 9).p_not_worse);
}

TEST(Leaderboard, CsvHeaderIsStable) {
  const std::string csv = leaderboard_csv({});
  EXPECT_EQ(csv,
            "run_id,date,git_sha,model,strategy,mme_perception,mme_cognition,vqav2_accuracy,coco_cider,"
            "flickr30k_cider,pope_f1_random,pope_f1_popular,pope_f1_adversarial,pope_f1_mean,unparseable_pct,"
            "avg_normalized_score,trainable_params,trainable_pct,total_params,optimizer_state_bytes,"
            "peak_train_memory_bytes,peak_eval_memory_bytes,checkpoint_bytes,train_seconds,eval_samples_per_s\n");
}

TEST(Leaderboard, RowsCarryScoresNextToParametersAndTheNormalizedAverage) {
  const fs::path root = fresh_dir("rows");
  test::FixtureOptions o;
  o.n_runs = 1;
  o.n_samples = 0;
  test::write_store(root, o);
  const auto rows = build_rows(read_store(root));
  ASSERT_EQ(rows.size(), 5u);
  const size_t avg = column_index("avg_normalized_score"), pct = column_index("trainable_pct");
  double best = 0;
  for (const Row& r : rows) best = std::max(best, *r.values[avg]);
  EXPECT_NEAR(best, 100.0, 1e-9);  // "full" is best everywhere in the fixture
  const auto it = std::find_if(rows.begin(), rows.end(), [](const Row& r) { return r.strategy == "ln"; });
  ASSERT_NE(it, rows.end());
  const Row& ln = *it;
  EXPECT_NEAR(*ln.values[pct], 100 * 1e5 / 7e9, 1e-12);
  EXPECT_TRUE(ln.values[column_index("pope_f1_adversarial")].has_value());
}

TEST(Store, WrongSchemaNamesTheFileAndField) {
  const fs::path root = fresh_dir("schema");
  test::write(root / "n1" / "run.json", R"({"schema": "lnbench.run/2", "run_id": "n1"})");
  try {
    read_store(root);
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("run.json: field 'schema'"), std::string::npos) << e.what();
  }
}

TEST(Report, FindsAPlantedRegressionAndListsFlips) {
  const fs::path root = fresh_dir("regress"), out = root / "out";
  test::FixtureOptions o;
  o.n_runs = 3;
  o.n_samples = 400;
  o.regress_last = 0.3;
  test::write_store(root, o);
  ReportOptions opt{root, out, "", {}};
  const ReportSummary s = write_report(opt);
  EXPECT_EQ(s.n_runs, 3u);
  EXPECT_EQ(s.baseline_run, "night-0001");
  EXPECT_EQ(s.n_compared, 25u);       // 5 strategies x 5 tasks
  EXPECT_EQ(s.n_regressions, 25u);    // every cell lost 30 % of its right answers
  const std::string index = slurp(out / "index.html");
  EXPECT_NE(index.find("REGRESSED"), std::string::npos);
  EXPECT_NE(slurp(out / "task_pope.html").find("sample(s) changed answer"), std::string::npos);
  EXPECT_EQ(slurp(out / "leaderboard.csv").substr(0, 6), "run_id");
}

TEST(Report, IdenticalNightsAreNotRegressions) {
  const fs::path root = fresh_dir("same"), out = root / "out";
  test::FixtureOptions o;
  o.n_runs = 2;
  o.n_samples = 300;
  test::write_store(root, o);
  const ReportSummary s = write_report({root, out, "", {}});
  EXPECT_EQ(s.n_compared, 25u);
  EXPECT_EQ(s.n_regressions, 0u);
  EXPECT_EQ(slurp(out / "task_mme.html").find("<td class=\"t\">Is there a dog?"), std::string::npos);  // no flips
}

TEST(Report, UnknownBaselineIsAnError) {
  const fs::path root = fresh_dir("baseline");
  test::FixtureOptions o;
  o.n_samples = 0;
  test::write_store(root, o);
  EXPECT_THROW(write_report({root, root / "out", "night-9999", {}}), StoreError);
}

}  // namespace
}  // namespace lnb::reports
