// See pope.h. Arithmetic as AoiDragon/POPE evaluate.py: f1 = 2*p*r/(p+r) evaluated
// left to right; yes_ratio over all answers.
#include "metrics/pope.h"

#include <algorithm>

namespace lnb::metrics {

void PopeAccumulator::add(int64_t order, std::optional<YesNo> label, YesNo pred) {
  rows_.push_back({order, label, pred});
}

void PopeAccumulator::merge(const PopeAccumulator& other) {
  rows_.insert(rows_.end(), other.rows_.begin(), other.rows_.end());
}

void PopeCounts::add(const PopeCounts& o, int64_t times) {
  tp += times * o.tp, fp += times * o.fp, tn += times * o.tn, fn += times * o.fn;
  n_answers += times * o.n_answers, n_scored += times * o.n_scored, n_yes += times * o.n_yes;
  n_unparseable += times * o.n_unparseable;
}

std::vector<PopeCounts> PopeAccumulator::unit_counts() const {
  std::vector<PopeCounts> out;
  out.reserve(rows_.size());
  for (const Row& r : rows_) {
    PopeCounts c;
    c.n_answers = 1;
    c.n_yes = r.pred == YesNo::kYes;
    c.n_unparseable = r.pred == YesNo::kUnparseable;
    if (r.label) {
      c.n_scored = 1;
      const bool label_yes = *r.label == YesNo::kYes;
      if (r.pred == YesNo::kYes) (label_yes ? c.tp : c.fp) = 1;
      else if (r.pred == YesNo::kNo) (label_yes ? c.fn : c.tn) = 1;
      else if (label_yes) c.fn = 1;  // an unparseable answer to a "yes" question misses it
    }
    out.push_back(c);
  }
  return out;
}

PopeScores PopeAccumulator::compute() const {
  PopeCounts total;
  for (const PopeCounts& c : unit_counts()) total.add(c);
  return pope_scores(total);
}

PopeScores pope_scores(const PopeCounts& c) {
  PopeScores s;
  s.tp = c.tp, s.fp = c.fp, s.tn = c.tn, s.fn = c.fn;
  s.n_answers = c.n_answers, s.n_scored = c.n_scored, s.n_unparseable = c.n_unparseable;
  auto div = [&s](double a, double b, const char* what) -> std::optional<double> {
    if (b == 0) {
      s.notes.push_back(std::string(what) + " undefined (division by zero)");
      return std::nullopt;
    }
    return a / b;
  };
  // Unparseable answers are wrong answers: they sit in the accuracy denominator.
  s.accuracy = div(static_cast<double>(s.tp + s.tn), static_cast<double>(s.n_scored), "accuracy");
  s.precision = div(static_cast<double>(s.tp), static_cast<double>(s.tp + s.fp), "precision");
  s.recall = div(static_cast<double>(s.tp), static_cast<double>(s.tp + s.fn), "recall");
  if (s.precision && s.recall) s.f1 = div(2 * *s.precision * *s.recall, *s.precision + *s.recall, "f1");
  else s.notes.push_back("f1 undefined (precision or recall undefined)");
  s.yes_ratio = div(static_cast<double>(c.n_yes), static_cast<double>(s.n_answers), "yes_ratio");
  s.unparseable_rate = s.n_answers ? static_cast<double>(s.n_unparseable) / static_cast<double>(s.n_answers) : 0;
  return s;
}

PopeIntervals pope_intervals(const std::vector<const PopeAccumulator*>& splits, const BootstrapOptions& opt) {
  PopeIntervals out;
  std::vector<std::vector<PopeCounts>> units;
  std::vector<size_t> sizes;
  for (const PopeAccumulator* a : splits) {
    units.push_back(a->unit_counts());
    sizes.push_back(units.back().size());
    const PopeScores s = a->compute();
    out.accuracy.push_back(wilson_interval(s.tp + s.tn, s.n_scored, opt.confidence));
  }
  const size_t n = splits.size();
  auto stat = [&units, n](const Weights& w) {
    std::vector<std::optional<double>> v(n + 1);
    double sum = 0;
    bool all = n > 0;
    for (size_t s = 0; s < n; ++s) {
      PopeCounts c;
      for (size_t i = 0; i < units[s].size(); ++i)
        if (w[s][i]) c.add(units[s][i], w[s][i]);
      v[s] = pope_scores(c).f1;
      if (v[s]) sum += *v[s];
      else all = false;
    }
    if (all) v[n] = sum / static_cast<double>(n);
    return v;
  };
  BootstrapResult b = stratified_bootstrap(sizes, n + 1, stat, opt);
  out.f1.assign(b.intervals.begin(), b.intervals.begin() + static_cast<std::ptrdiff_t>(n));
  out.f1_mean = b.intervals[n];
  return out;
}

std::optional<double> pope_mean_f1(const std::vector<PopeScores>& splits) {
  if (splits.empty()) return std::nullopt;
  double sum = 0;
  for (const PopeScores& s : splits) {
    if (!s.f1) return std::nullopt;
    sum += *s.f1;
  }
  return sum / static_cast<double>(splits.size());
}

}  // namespace lnb::metrics
