// See leaderboard.h.
#include "reports/leaderboard.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "reports/escape.h"

namespace lnb::reports {

const std::vector<Column>& leaderboard_columns() {
  using U = Unit;
  static const std::vector<Column> k = {
      {"mme_perception", "MME perception total (10 tasks, max 2000), eval_tool semantics", true, true, U::kScore, true},
      {"mme_cognition", "MME cognition total (4 tasks, max 800)", true, true, U::kScore, true},
      {"vqav2_accuracy", "VQAv2 accuracy, 0-100, normalization as in the task's definitions", true, true, U::kScore, true},
      {"coco_cider", "COCO CIDEr-D, pycocoevalcap x1 scale", true, true, U::kScore, true},
      {"flickr30k_cider", "Flickr30k CIDEr-D, pycocoevalcap x1 scale", true, true, U::kScore, true},
      {"pope_f1_random", "POPE F1, random split (reference parser)", true, false, U::kScore, true},
      {"pope_f1_popular", "POPE F1, popular split", true, false, U::kScore, true},
      {"pope_f1_adversarial", "POPE F1, adversarial split", true, false, U::kScore, true},
      {"pope_f1_mean", "POPE F1, mean over the splits (LLaVA-1.5's headline)", true, true, U::kScore, true},
      {"unparseable_pct", "Mean unparseable-answer rate over the tasks that report one, %", false, false, U::kPercent},
      {"avg_normalized_score", "Mean of the score columns, each divided by the run's best x100", true, false},
      {"trainable_params", "Trainable parameters (count)", false, false, U::kCount},
      {"trainable_pct", "Trainable parameters, % of total", false, false, U::kPercent},
      {"total_params", "Total parameters (count)", false, false, U::kCount},
      {"optimizer_state_bytes", "Optimizer state, bytes", false, false, U::kBytes},
      {"peak_train_memory_bytes", "Measured peak training memory, bytes", false, false, U::kBytes},
      {"peak_eval_memory_bytes", "Measured peak evaluation memory (max over tasks), bytes", false, false, U::kBytes},
      {"checkpoint_bytes", "Checkpoint size (trained tensors only), bytes", false, false, U::kBytes},
      {"train_seconds", "Training wall time, s", false, false, U::kSeconds},
      {"eval_samples_per_s", "Evaluation throughput, samples/s (mean over tasks)", true, false, U::kRate},
  };
  return k;
}

size_t column_index(const std::string& name) {
  const auto& cols = leaderboard_columns();
  for (size_t i = 0; i < cols.size(); ++i)
    if (name == cols[i].name) return i;
  throw std::out_of_range("no leaderboard column '" + name + "'");
}

namespace {

Row row_of(const Run& run, const Cell& c) {
  Row r{run.run_id, run.date, run.git_sha, c.model, c.strategy,
        std::vector<std::optional<double>>(leaderboard_columns().size()), c.source,
        std::vector<std::optional<Range>>(leaderboard_columns().size())};
  auto set = [&r](const char* col, std::optional<double> v) { r.values[column_index(col)] = v; };
  // A headline score: the task's value and, where metrics.json has one, its interval.
  auto headline = [&](const char* col, const char* task, const char* split, const char* name) {
    const auto t = c.tasks.find(task);
    if (t == c.tasks.end()) return;
    set(col, t->second.value(split, name));
    if (r.values[column_index(col)]) r.intervals[column_index(col)] = t->second.interval(split, name);
  };
  headline("mme_perception", "mme", "", "perception");
  headline("mme_cognition", "mme", "", "cognition");
  headline("vqav2_accuracy", "vqav2", "", "accuracy");
  headline("coco_cider", "coco", "", "cider");
  headline("flickr30k_cider", "flickr30k", "", "cider");
  headline("pope_f1_random", "pope", "random", "f1");
  headline("pope_f1_popular", "pope", "popular", "f1");
  headline("pope_f1_adversarial", "pope", "adversarial", "f1");
  headline("pope_f1_mean", "pope", "", "f1_mean");
  double unparse = 0, peak_eval = 0, rate = 0;
  int n_unparse = 0, n_peak = 0, n_rate = 0;
  for (const auto& [name, t] : c.tasks) {
    if (t.unparseable_rate) unparse += *t.unparseable_rate, ++n_unparse;
    if (t.peak_eval_memory_bytes) peak_eval = std::max(peak_eval, *t.peak_eval_memory_bytes), ++n_peak;
    if (t.samples_per_s) rate += *t.samples_per_s, ++n_rate;
  }
  if (n_unparse) set("unparseable_pct", 100 * unparse / n_unparse);
  if (n_peak) set("peak_eval_memory_bytes", peak_eval);
  if (n_rate) set("eval_samples_per_s", rate / n_rate);
  set("trainable_params", c.trainable_params);
  set("total_params", c.total_params);
  if (c.trainable_params && c.total_params && *c.total_params > 0)
    set("trainable_pct", 100 * *c.trainable_params / *c.total_params);
  set("optimizer_state_bytes", c.optimizer_state_bytes);
  set("peak_train_memory_bytes", c.peak_train_memory_bytes);
  set("checkpoint_bytes", c.checkpoint_bytes);
  set("train_seconds", c.train_seconds);
  return r;
}

}  // namespace

std::vector<Row> build_rows(const std::vector<Run>& runs) {
  std::vector<Row> rows;
  const auto& cols = leaderboard_columns();
  const size_t avg = column_index("avg_normalized_score");
  for (const Run& run : runs) {
    const size_t first = rows.size();
    for (const Cell& c : run.cells) rows.push_back(row_of(run, c));
    // Normalize each score column by the best value of this run.
    std::vector<double> best(cols.size(), 0);
    for (size_t i = first; i < rows.size(); ++i)
      for (size_t k = 0; k < cols.size(); ++k)
        if (cols[k].score && rows[i].values[k]) best[k] = std::max(best[k], *rows[i].values[k]);
    for (size_t i = first; i < rows.size(); ++i) {
      double sum = 0;
      int n = 0;
      for (size_t k = 0; k < cols.size(); ++k)
        if (cols[k].score && rows[i].values[k] && best[k] > 0) sum += 100 * *rows[i].values[k] / best[k], ++n;
      if (n) rows[i].values[avg] = sum / n;
    }
  }
  return rows;
}

std::string leaderboard_csv(const std::vector<Row>& rows) {
  const auto& cols = leaderboard_columns();
  std::string out = "run_id,date,git_sha,model,strategy";
  for (const Column& c : cols) (out += ',') += c.name;
  for (const Column& c : cols)
    if (c.has_interval) out += std::string(",") + c.name + "_lo95," + c.name + "_hi95";
  out += '\n';
  char buf[64];
  auto put = [&](const std::optional<double>& v) {
    out += ',';
    if (v) {
      std::snprintf(buf, sizeof buf, "%.17g", *v);
      out += buf;
    }
  };
  for (const Row& r : rows) {
    out += csv_field(r.run_id) + ',' + csv_field(r.date) + ',' + csv_field(r.git_sha) + ',' + csv_field(r.model) + ',' +
           csv_field(r.strategy);
    for (const auto& v : r.values) put(v);
    for (size_t k = 0; k < cols.size(); ++k)
      if (cols[k].has_interval) {
        const auto& iv = r.intervals[k];
        put(iv ? std::optional<double>(iv->lo) : std::nullopt);
        put(iv ? std::optional<double>(iv->hi) : std::nullopt);
      }
    out += '\n';
  }
  return out;
}

std::string seedless(const std::string& cell) {
  const size_t at = cell.find("~seed");
  return at == std::string::npos ? cell : cell.substr(0, at);
}

std::vector<SeedSpread> seed_spreads(const std::vector<Row>& rows, const std::string& run_id) {
  std::map<std::pair<std::string, std::string>, std::vector<const Row*>> groups;
  for (const Row& r : rows)
    if (r.run_id == run_id) groups[{r.model, seedless(r.strategy)}].push_back(&r);
  const auto& cols = leaderboard_columns();
  std::vector<SeedSpread> out;
  for (const auto& [key, members] : groups) {
    if (members.size() < 2) continue;
    for (size_t k = 0; k < cols.size(); ++k) {
      if (!cols[k].has_interval) continue;
      SeedSpread s;
      s.model = key.first, s.strategy = key.second, s.column = cols[k].name;
      std::vector<double> v;
      double half = 0;
      size_t n_half = 0;
      for (const Row* r : members) {
        if (!r->values[k]) continue;
        s.cells.push_back(r->strategy);
        v.push_back(*r->values[k]);
        if (r->intervals[k]) half += (r->intervals[k]->hi - r->intervals[k]->lo) / 2, ++n_half;
      }
      if (v.size() < 2) continue;
      double sum = 0;
      for (double x : v) sum += x;
      s.mean = sum / static_cast<double>(v.size());
      double ss = 0;
      for (double x : v) ss += (x - s.mean) * (x - s.mean);
      s.sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
      s.min = *std::min_element(v.begin(), v.end());
      s.max = *std::max_element(v.begin(), v.end());
      if (n_half) {
        s.sampling_half_width = half / static_cast<double>(n_half);
        s.larger = s.sd > *s.sampling_half_width / 1.959963984540054 ? "seeds" : "sampling";
      }
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::string seed_spread_csv(const std::string& run_id, const std::vector<SeedSpread>& spreads) {
  std::string out = "run_id,model,strategy,metric,seeds,mean,sd,min,max,sampling_half_width95,larger\n";
  char buf[200];
  for (const SeedSpread& s : spreads) {
    out += csv_field(run_id) + ',' + csv_field(s.model) + ',' + csv_field(s.strategy) + ',' + s.column + ',' +
           std::to_string(s.cells.size());
    std::snprintf(buf, sizeof buf, ",%.17g,%.17g,%.17g,%.17g,", s.mean, s.sd, s.min, s.max);
    out += buf;
    if (s.sampling_half_width) {
      std::snprintf(buf, sizeof buf, "%.17g", *s.sampling_half_width);
      out += buf;
    }
    out += ',' + s.larger + '\n';
  }
  return out;
}

std::string human_value(double v, Unit unit) {
  char buf[64];
  const double a = std::fabs(v);
  switch (unit) {
    case Unit::kCount:
      if (a >= 1e12) std::snprintf(buf, sizeof buf, "%.4g T", v / 1e12);
      else if (a >= 1e9) std::snprintf(buf, sizeof buf, "%.3g B", v / 1e9);
      else if (a >= 1e6) std::snprintf(buf, sizeof buf, "%.3g M", v / 1e6);
      else if (a >= 1e4) std::snprintf(buf, sizeof buf, "%.3g k", v / 1e3);
      else std::snprintf(buf, sizeof buf, "%.0f", v);
      break;
    case Unit::kBytes:
      if (a >= 1024.0 * 1024 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2f TiB", v / (1024.0 * 1024 * 1024 * 1024));
      else if (a >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2f GiB", v / (1024.0 * 1024 * 1024));
      else if (a >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.1f MiB", v / (1024.0 * 1024));
      else if (a >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", v / 1024);
      else std::snprintf(buf, sizeof buf, "%.0f B", v);
      break;
    case Unit::kPercent:
      std::snprintf(buf, sizeof buf, a != 0 && a < 0.01 ? "%.2g %%" : "%.2f %%", v);
      break;
    case Unit::kSeconds:
      if (a >= 3600) std::snprintf(buf, sizeof buf, "%d h %02d min", static_cast<int>(v / 3600), static_cast<int>(std::fmod(v, 3600) / 60));
      else if (a >= 60) std::snprintf(buf, sizeof buf, "%d min %02d s", static_cast<int>(v / 60), static_cast<int>(std::fmod(v, 60)));
      else std::snprintf(buf, sizeof buf, "%.1f s", v);
      break;
    case Unit::kRate:
      std::snprintf(buf, sizeof buf, "%.3g/s", v);
      break;
    case Unit::kScore:
      std::snprintf(buf, sizeof buf, a >= 100 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f", v);
      break;
  }
  return buf;
}

}  // namespace lnb::reports
