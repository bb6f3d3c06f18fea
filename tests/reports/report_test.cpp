// Statistics by hand, the leaderboard's columns, schema errors, and whole reports on
// synthetic stores (a planted regression must be found; identical nights must not be).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "reports/escape.h"
#include "reports/html_report.h"
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
            "peak_train_memory_bytes,peak_eval_memory_bytes,checkpoint_bytes,train_seconds,eval_samples_per_s,"
            "mme_perception_lo95,mme_perception_hi95,mme_cognition_lo95,mme_cognition_hi95,vqav2_accuracy_lo95,"
            "vqav2_accuracy_hi95,coco_cider_lo95,coco_cider_hi95,flickr30k_cider_lo95,flickr30k_cider_hi95,"
            "pope_f1_random_lo95,pope_f1_random_hi95,pope_f1_popular_lo95,pope_f1_popular_hi95,"
            "pope_f1_adversarial_lo95,pope_f1_adversarial_hi95,pope_f1_mean_lo95,pope_f1_mean_hi95\n");
}

TEST(Leaderboard, IntervalsFromMetricsJsonReachTheCsvAfterTheValues) {
  const fs::path root = fresh_dir("intervals");
  test::FixtureOptions o;
  o.n_runs = 1;
  o.n_samples = 0;
  o.intervals = true;
  test::write_store(root, o);
  const std::vector<Row> rows = build_rows(read_store(root));
  const Row& ln = *std::find_if(rows.begin(), rows.end(), [](const Row& r) { return r.strategy == "ln"; });
  const size_t perception = column_index("mme_perception"), adv = column_index("pope_f1_adversarial");
  ASSERT_TRUE(ln.intervals[perception]);
  EXPECT_EQ(ln.intervals[perception]->lo, *ln.values[perception] - 10);
  EXPECT_EQ(ln.intervals[perception]->hi, *ln.values[perception] + 10);
  ASSERT_TRUE(ln.intervals[adv]);
  EXPECT_DOUBLE_EQ(ln.intervals[adv]->lo, *ln.values[adv] - 0.05);
  EXPECT_FALSE(ln.intervals[column_index("trainable_params")]);
  // The CSV line of "ln": the interval columns hold lo and hi, after every value column.
  const std::string csv = leaderboard_csv({ln});
  const std::string line = csv.substr(csv.find('\n') + 1);
  std::vector<std::string> fields;
  std::stringstream ss(line.substr(0, line.size() - 1));
  for (std::string f; std::getline(ss, f, ',');) fields.push_back(f);
  const size_t first_interval = 5 + leaderboard_columns().size();
  ASSERT_GT(fields.size(), first_interval + 1);
  EXPECT_EQ(std::stod(fields[first_interval]), ln.intervals[perception]->lo);
  EXPECT_EQ(std::stod(fields[first_interval + 1]), ln.intervals[perception]->hi);
}

TEST(Store, MalformedIntervalNamesTheField) {
  const fs::path root = fresh_dir("bad_interval");
  test::FixtureOptions o;
  o.n_runs = 1;
  o.n_samples = 0;
  o.tasks = {"vqav2"};
  o.strategies = {"ln"};
  test::write_store(root, o);
  const fs::path m = root / "night-0000" / "tiny-llava" / "ln" / "vqav2" / "metrics.json";
  nlohmann::json j = nlohmann::json::parse(slurp(m));
  j["intervals"] = {{"values", {{"accuracy", {70, 60}}}}};
  test::write(m, j.dump());
  try {
    read_store(root);
    FAIL() << "an interval with lo > hi was accepted";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("field 'intervals.values.accuracy': expected [lo, hi] with lo <= hi"),
              std::string::npos) << e.what();
  }
}

TEST(Leaderboard, HumanUnits) {
  EXPECT_EQ(human_value(1234567, Unit::kCount), "1.23 M");
  EXPECT_EQ(human_value(150162000, Unit::kBytes), "143.2 MiB");
  EXPECT_EQ(human_value(3.0 * 1024 * 1024 * 1024, Unit::kBytes), "3.00 GiB");
  EXPECT_EQ(human_value(3.7812, Unit::kPercent), "3.78 %");
  EXPECT_EQ(human_value(0.0041, Unit::kPercent), "0.0041 %");
  EXPECT_EQ(human_value(125, Unit::kSeconds), "2 min 05 s");
  EXPECT_EQ(human_value(1391.25, Unit::kScore), "1391.2");
  EXPECT_EQ(human_value(0.6712, Unit::kScore), "0.671");
  EXPECT_EQ(human_value(512, Unit::kCount), "512");
  EXPECT_EQ(human_value(1e13, Unit::kCount), "10 T");
  EXPECT_EQ(human_value(7e9, Unit::kCount), "7 B");
}

TEST(Pairwise, HolmStepDownByHand) {
  // sorted 0.005 0.01 0.03 0.04 -> x4 x3 x2 x1 = 0.02 0.03 0.06 0.04, then running max.
  const std::vector<double> adj = holm_adjust({0.01, 0.04, 0.03, 0.005});
  EXPECT_NEAR(adj[0], 0.03, 1e-15);
  EXPECT_NEAR(adj[1], 0.06, 1e-15);
  EXPECT_NEAR(adj[2], 0.06, 1e-15);
  EXPECT_NEAR(adj[3], 0.02, 1e-15);
  EXPECT_EQ(holm_adjust({0.9, 0.8})[0], 1.0);
}

TEST(Pairwise, APlantedDifferenceIsFoundAndIdenticalStrategiesAreNot) {
  const fs::path root = fresh_dir("pairwise");
  test::FixtureOptions o;
  o.n_runs = 1;
  o.n_samples = 400;
  o.strategies = {"connector", "full", "full-twin"};
  o.twin_of_last = true;  // full-twin answers exactly as full
  o.tasks = {"pope", "vqav2"};
  test::write_store(root, o);
  const std::vector<reports::Run> runs = read_store(root);
  const std::vector<Pairwise> pw = compare_strategies(read_run_samples(runs.back()), RegressionOptions{});
  ASSERT_EQ(pw.size(), 6u);  // 3 pairs x 2 tasks
  for (const Pairwise& p : pw) {
    SCOPED_TRACE(p.task + " " + p.a + " vs " + p.b);
    EXPECT_EQ(p.n_paired, 400);
    if (p.a == "full" && p.b == "full-twin") {
      EXPECT_EQ(p.p_value, 1.0);
      EXPECT_EQ(p.verdict, "not distinguishable");
    } else {
      // connector answers right ~50 % of the time, full ~58 %: 400 paired samples tell them
      // apart only sometimes, so the verdict must follow the p-value, whichever it is.
      EXPECT_EQ(p.test, p.task == "pope" ? "mcnemar" : "paired-bootstrap");
      EXPECT_LE(p.p_value, p.p_holm);
      EXPECT_EQ(p.verdict == "not distinguishable", p.p_holm >= 0.05);
      if (p.verdict != "not distinguishable") {
        EXPECT_EQ(p.verdict.substr(0, 4), "full");
      }
    }
  }
  // Written beside the leaderboard, and counted.
  const ReportSummary s = write_report({root, root / "out", "", {}});
  EXPECT_EQ(s.n_pairs, 6u);
  const std::string csv = slurp(root / "out" / "pairwise.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "run_id,model,task,strategy_a,strategy_b,test,n_paired,a,b,p_value,p_holm,verdict");
  EXPECT_NE(csv.find(",full,full-twin,"), std::string::npos);
}

TEST(Pairwise, AStrongEffectIsDistinguishable) {
  const fs::path root = fresh_dir("pairwise_strong");
  test::FixtureOptions o;
  o.n_runs = 1;
  o.n_samples = 400;
  o.strategies = {"connector", "ln", "ln-simple", "lora", "full"};  // 50 % .. 82 % right
  o.tasks = {"mme"};
  test::write_store(root, o);
  const std::vector<Pairwise> pw = compare_strategies(read_run_samples(read_store(root).back()), RegressionOptions{});
  const auto it = std::find_if(pw.begin(), pw.end(), [](const Pairwise& p) { return p.a == "connector" && p.b == "full"; });
  ASSERT_NE(it, pw.end());
  EXPECT_LT(it->p_holm, 1e-6);
  EXPECT_EQ(it->verdict, "full > connector");
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

Sample yes_no(const std::string& id, const std::string& parsed) {
  Sample s;
  s.id = id;
  s.answer = parsed + ".";
  s.parsed = parsed;
  return s;
}

// Disagreement is on the parsed answer; a flip marks its row and keeps the old answer;
// the cap keeps every disagreeing or flipped row before any other, in file order.
TEST(SampleBrowser, DisagreementFlipsAndTheCap) {
  RunSamples rs;
  for (const char* strategy : {"ln", "lora", "full"})
    for (int i = 0; i < 10; ++i) {
      const bool odd_one_out = std::string(strategy) == "full" && (i == 2 || i == 5);
      // "ln" answers "yes." where the others say "yes": the raw text differs, the parse does not.
      Sample s = yes_no("q" + std::to_string(i), odd_one_out ? "no" : "yes");
      if (std::string(strategy) == "ln") s.answer = "Yes, there is.";
      rs[{"m", strategy, "pope"}].push_back(s);
    }
  rs[{"m", "ln", "mme"}].push_back(yes_no("other-task", "no"));
  const std::vector<Flip> flips = {{"m", "lora", "q7", "", "no", "yes"}, {"m", "lora", "absent", "", "no", "yes"}};
  const SampleBrowser all = browse_samples(rs, "pope", flips, 100);
  EXPECT_EQ(all.strategies, (std::vector<std::string>{"full", "ln", "lora"}));
  EXPECT_EQ(all.n_total, 10u);
  EXPECT_EQ(all.n_disagree, 2u);
  EXPECT_EQ(all.n_flipped, 1u);
  ASSERT_EQ(all.rows.size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(all.rows[i].id, "q" + std::to_string(i));
    EXPECT_EQ(all.rows[i].disagree, i == 2 || i == 5);
    EXPECT_EQ(all.rows[i].flipped, i == 7);
    EXPECT_EQ(all.rows[i].before[2], i == 7 ? "no" : "");
    ASSERT_NE(all.rows[i].answers[0], nullptr);
    EXPECT_EQ(all.rows[i].answers[0]->parsed, i == 2 || i == 5 ? "no" : "yes");
  }
  const SampleBrowser capped = browse_samples(rs, "pope", flips, 4);
  EXPECT_EQ(capped.n_total, 10u);
  std::vector<std::string> ids;
  for (const BrowserRow& r : capped.rows) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"q0", "q2", "q5", "q7"}));
  EXPECT_EQ(browse_samples(rs, "pope", flips, 2).rows.size(), 2u);
  EXPECT_EQ(browse_samples(rs, "pope", flips, 2).rows[1].id, "q5");
}

TEST(SampleBrowser, ReferenceTextCountsRepeatsAndKeepsDistinctOnesInOrder) {
  EXPECT_EQ(reference_text(nlohmann::json("yes")), "yes");
  EXPECT_EQ(reference_text(nlohmann::json::array({"two", "2", "two", "two", "2", "three"})),
            "two \u00d73 \u00b7 2 \u00d72 \u00b7 three");
  EXPECT_EQ(reference_text(nlohmann::json::array({"A cat.", "A small cat."})), "A cat. \u00b7 A small cat.");
  EXPECT_EQ(reference_text(nlohmann::json()), "");
}

TEST(SampleBrowser, PageEmbedsEachShownImageOnceAndStaysBounded) {
  const fs::path root = fresh_dir("browser"), out = root / "out";
  test::FixtureOptions o;
  o.n_runs = 2;
  o.n_samples = 300;
  o.regress_last = 0.2;
  o.tasks = {"pope"};
  o.images_per_task = 25;
  o.hostile = "<b>&";
  test::write_store(root, o);
  // Without a thumbnailer: small images as they are, the large one not at all.
  write_report({root, out, "", {}});
  const std::string page = slurp(out / "task_pope.html");
  const std::vector<reports::Run> runs = read_store(root);
  const RunSamples rs = read_run_samples(runs.back());
  const SampleBrowser b = browse_samples(rs, "pope", find_flips(pair_samples(runs[0], rs), "pope"));
  ASSERT_EQ(b.rows.size(), kBrowserRows);
  auto count = [&page](const std::string& needle) {
    size_t n = 0;
    for (size_t at = page.find(needle); at != std::string::npos; at = page.find(needle, at + 1)) ++n;
    return n;
  };
  std::set<std::string> shown_images;
  size_t disagree = 0, flipped = 0;
  for (const BrowserRow& r : b.rows) {
    shown_images.insert(r.answers[0]->image);
    disagree += r.disagree, flipped += r.flipped;
  }
  EXPECT_EQ(count("data-disagree=\"1\""), disagree);
  EXPECT_EQ(count("data-flipped=\"1\""), flipped);
  EXPECT_GT(flipped, 0u);
  EXPECT_EQ(count("<tr data-disagree="), kBrowserRows);
  // One CSS class per distinct embedded image; the 40 KB image 0 is left out.
  EXPECT_EQ(count("base64,"), shown_images.size() - shown_images.count((root / "images" / "pope-0.png").string()));
  EXPECT_EQ(count("<b>&"), 0u) << "an unescaped string from the store";
  EXPECT_GT(count("Is there a dog in picture"), 0u);
  EXPECT_GT(count("yes \u00d72 \u00b7 no&lt;b&gt;&amp;"), 0u);
  EXPECT_LT(page.size(), kBrowserRows * 4000 + 200000) << "thumbnails or rows beyond the bound";
  // With a thumbnailer: called once per distinct image of the shown rows, never for the others.
  std::set<std::string> asked;
  size_t calls = 0;
  write_report({root, out, "", {}}, [&](const fs::path& p) -> std::optional<Thumbnail> {
    ++calls;
    asked.insert(p.string());
    return Thumbnail{"image/jpeg", "JPEG"};
  });
  EXPECT_EQ(asked, shown_images);
  EXPECT_EQ(calls, shown_images.size());
  EXPECT_NE(slurp(out / "task_pope.html").find("data:image/jpeg;base64," + base64("JPEG")), std::string::npos);
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

namespace lnb::reports {
namespace {

// The y of every scatter label (the labels column at x=472).
std::vector<double> scatter_label_ys(const std::string& html) {
  std::vector<double> ys;
  const std::string key = "<text x=\"472\" y=\"";
  for (size_t at = html.find(key); at != std::string::npos; at = html.find(key, at + 1))
    ys.push_back(std::stod(html.substr(at + key.size())));
  return ys;
}

TEST(Html, OneNightDrawsNoEmptyChartAndSaysWhy) {
  const fs::path root = fresh_dir("one_night");
  test::FixtureOptions o;
  o.n_runs = 1;
  o.n_samples = 10;
  test::write_store(root, o);
  write_report({root, root / "out", "", {}});
  const std::string index = slurp(root / "out" / "index.html");
  EXPECT_EQ(index.find("across nights"), std::string::npos) << "a trend chart with one night";
  EXPECT_NE(index.find("One night so far"), std::string::npos);
  EXPECT_EQ(index.find("no values"), std::string::npos);
  EXPECT_NE(index.find("No baseline night yet"), std::string::npos);
}

TEST(Html, TwoNightsDrawTrendsWithAPointPerNight) {
  const fs::path root = fresh_dir("two_nights");
  test::FixtureOptions o;
  o.n_runs = 2;
  o.n_samples = 10;
  o.strategies = {"ln", "lora"};
  test::write_store(root, o);
  write_report({root, root / "out", "", {}});
  const std::string index = slurp(root / "out" / "index.html");
  EXPECT_NE(index.find("mme_perception across nights"), std::string::npos);
  EXPECT_NE(index.find("over 2 nights"), std::string::npos);
}

TEST(Html, ScatterLabelsNeverOverlapEvenWhenPointsCoincide) {
  const fs::path root = fresh_dir("labels");
  test::FixtureOptions o;
  o.n_runs = 1;
  o.n_samples = 0;
  // Twelve strategies; the fixture gives neighbours nearly equal scores and a decade of
  // parameters each, and duplicates land on the same point.
  o.strategies = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"};
  test::write_store(root, o);
  write_report({root, root / "out", "", {}});
  std::vector<double> ys = scatter_label_ys(slurp(root / "out" / "index.html"));
  ASSERT_EQ(ys.size(), 12u);
  std::sort(ys.begin(), ys.end());
  for (size_t i = 1; i < ys.size(); ++i) EXPECT_GE(ys[i] - ys[i - 1], 12.0) << "labels " << i - 1 << " and " << i;
}

TEST(Html, MissingMetricIsADashAndUnitsAreHuman) {
  const fs::path root = fresh_dir("dash");
  test::FixtureOptions o;
  o.n_runs = 1;
  o.n_samples = 0;
  o.strategies = {"ln"};
  o.tasks = {"mme"};
  test::write_store(root, o);
  const fs::path m = root / "night-0000" / "tiny-llava" / "ln" / "mme" / "metrics.json";
  nlohmann::json j = nlohmann::json::parse(slurp(m));
  j["values"]["cognition"] = nullptr;  // a world without cognition subtasks
  test::write(m, j.dump());
  write_report({root, root / "out", "", {}});
  const std::string index = slurp(root / "out" / "index.html");
  const std::vector<Row> rows = build_rows(read_store(root));
  EXPECT_FALSE(rows[0].values[column_index("mme_cognition")]);
  EXPECT_NE(index.find("<td data-v=\"\">&mdash;</td>"), std::string::npos);
  EXPECT_EQ(index.find("e+0"), std::string::npos) << "a number in exponent notation";
  EXPECT_NE(index.find("MiB</td>"), std::string::npos);  // peak memory 1e9 + 1e7 bytes
  EXPECT_NE(index.find(">10 k<"), std::string::npos);    // 1e4 trainable parameters
}

}  // namespace
}  // namespace lnb::reports

namespace lnb::reports {
namespace {

TEST(SeedSpread, MeanSpreadAndTheLargerEffectPerStrategy) {
  const fs::path root = fresh_dir("seeds");
  test::FixtureOptions o;
  o.n_runs = 1;
  o.n_samples = 0;
  o.intervals = true;  // +-10 on MME: a standard error of 10 / 1.96
  o.strategies = {"ln", "ln~seed7", "lora"};
  test::write_store(root, o);
  const std::vector<Row> rows = build_rows(read_store(root));
  const std::vector<SeedSpread> spreads = seed_spreads(rows, "night-0000");
  const auto it = std::find_if(spreads.begin(), spreads.end(), [](const SeedSpread& s) { return s.column == "mme_perception"; });
  ASSERT_NE(it, spreads.end());
  EXPECT_EQ(it->strategy, "ln");
  EXPECT_EQ(it->cells, (std::vector<std::string>{"ln", "ln~seed7"}));
  const size_t col = column_index("mme_perception");
  const double a = *rows[0].values[col], b = *rows[1].values[col];
  EXPECT_DOUBLE_EQ(it->mean, (a + b) / 2);
  EXPECT_NEAR(it->sd, std::abs(a - b) / std::sqrt(2.0), 1e-9);
  EXPECT_NEAR(*it->sampling_half_width, 10, 1e-9);
  EXPECT_EQ(it->larger, std::abs(a - b) / std::sqrt(2.0) > 10 / 1.959963984540054 ? "seeds" : "sampling");
  for (const SeedSpread& s : spreads) EXPECT_NE(s.strategy, "lora") << "one seed has no spread";
  EXPECT_EQ(seedless("prefix+ln~seed43"), "prefix+ln");
  write_report({root, root / "out", "", {}});
  EXPECT_NE(slurp(root / "out" / "index.html").find("Seed spread"), std::string::npos);
  const std::string csv = slurp(root / "out" / "seed_spread.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "run_id,model,strategy,metric,seeds,mean,sd,min,max,sampling_half_width95,larger");
  EXPECT_NE(csv.find(",ln,mme_perception,2,"), std::string::npos);
}

}  // namespace
}  // namespace lnb::reports
