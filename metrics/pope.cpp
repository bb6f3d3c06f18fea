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

PopeScores PopeAccumulator::compute() const {
  PopeScores s;
  int64_t yes = 0;
  for (const Row& r : rows_) {
    ++s.n_answers;
    if (r.pred == YesNo::kYes) ++yes;
    if (r.pred == YesNo::kUnparseable) ++s.n_unparseable;
    if (!r.label) continue;
    ++s.n_scored;
    const bool label_yes = *r.label == YesNo::kYes;
    if (r.pred == YesNo::kYes) (label_yes ? s.tp : s.fp) += 1;
    else if (r.pred == YesNo::kNo) (label_yes ? s.fn : s.tn) += 1;
    else if (label_yes) s.fn += 1;  // an unparseable answer to a "yes" question misses it
  }
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
  s.yes_ratio = div(static_cast<double>(yes), static_cast<double>(s.n_answers), "yes_ratio");
  s.unparseable_rate = s.n_answers ? static_cast<double>(s.n_unparseable) / static_cast<double>(s.n_answers) : 0;
  return s;
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
