// See mme.h. Source: MME eval_tool calculation.py.
#include "metrics/mme.h"

#include <algorithm>
#include <stdexcept>

namespace lnb::metrics {

const std::vector<std::string>& mme_perception_tasks() {
  static const std::vector<std::string> k = {"existence", "count",     "position", "color",   "posters",
                                             "celebrity", "scene",     "landmark", "artwork", "OCR"};
  return k;
}

const std::vector<std::string>& mme_cognition_tasks() {
  static const std::vector<std::string> k = {"commonsense_reasoning", "numerical_calculation",
                                             "text_translation", "code_reasoning"};
  return k;
}

bool mme_is_perception(std::string_view task) {
  const auto& p = mme_perception_tasks();
  return std::find(p.begin(), p.end(), task) != p.end();
}

double mme_subtask_score(int64_t n_correct, int64_t n_questions, int64_t n_both_correct, int64_t n_images) {
  const double acc = static_cast<double>(n_correct) / static_cast<double>(n_questions);
  const double acc_plus = static_cast<double>(n_both_correct) / static_cast<double>(n_images);
  return acc * 100 + acc_plus * 100;
}

MmeIntervals mme_intervals(const MmeScores& scores, const BootstrapOptions& opt) {
  std::vector<size_t> sizes;
  std::vector<int> group;  // 0 perception, 1 cognition
  for (const MmeTaskScores& t : scores.tasks) {
    sizes.push_back(t.image_correct.size());
    group.push_back(mme_is_perception(t.task) ? 0 : 1);
  }
  auto stat = [&](const Weights& w) {
    double total[2] = {0, 0};
    bool present[2] = {false, false};
    for (size_t s = 0; s < w.size(); ++s) {
      const std::vector<uint8_t>& c = scores.tasks[s].image_correct;
      int64_t right = 0, both = 0;
      for (size_t i = 0; i < c.size(); ++i) right += w[s][i] * c[i], both += c[i] == 2 ? w[s][i] : 0;
      const int64_t n_img = static_cast<int64_t>(c.size());
      total[group[s]] += mme_subtask_score(right, 2 * n_img, both, n_img);
      present[group[s]] = true;
    }
    return std::vector<std::optional<double>>{present[0] ? std::optional<double>(total[0]) : std::nullopt,
                                              present[1] ? std::optional<double>(total[1]) : std::nullopt};
  };
  const BootstrapResult b = stratified_bootstrap(sizes, 2, stat, opt);
  return {b.intervals[0], b.intervals[1]};
}

void MmeAccumulator::add(std::string_view task, int64_t order, YesNo gt, YesNo pred) {
  auto it = rows_.find(task);
  if (it == rows_.end()) it = rows_.emplace(std::string(task), std::vector<Row>{}).first;
  it->second.push_back({order, gt, pred});
}

void MmeAccumulator::merge(const MmeAccumulator& other) {
  for (const auto& [task, rows] : other.rows_) {
    auto& mine = rows_[task];
    mine.insert(mine.end(), rows.begin(), rows.end());
  }
}

MmeScores MmeAccumulator::compute() const {
  for (const auto& [task, rows] : rows_) {
    const auto& p = mme_perception_tasks();
    const auto& c = mme_cognition_tasks();
    if (std::find(p.begin(), p.end(), task) == p.end() && std::find(c.begin(), c.end(), task) == c.end())
      throw std::invalid_argument("unknown MME task '" + task + "'");
  }
  MmeScores out;
  auto score_group = [&](const std::vector<std::string>& tasks, double& total) {
    total = 0;
    for (const std::string& task : tasks) {
      const auto it = rows_.find(task);
      if (it == rows_.end()) {
        out.missing_tasks.push_back(task);
        continue;
      }
      std::vector<Row> rows = it->second;
      std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.order < b.order; });
      if (rows.size() % 2 != 0)
        throw std::invalid_argument("MME task '" + task + "' has " + std::to_string(rows.size()) +
                                    " questions; the eval_tool pairs consecutive lines, so it must be even");
      MmeTaskScores t;
      t.task = task;
      t.n_questions = static_cast<int64_t>(rows.size());
      t.n_images = t.n_questions / 2;
      for (size_t i = 0; i < rows.size(); i += 2) {
        bool both = true;
        uint8_t right = 0;
        for (size_t k = i; k < i + 2; ++k) {
          if (rows[k].gt == YesNo::kUnparseable)
            throw std::invalid_argument("MME task '" + task + "': a ground truth is not yes/no");
          const bool ok = rows[k].pred == rows[k].gt;  // "other" is always wrong
          t.n_correct += ok;
          right += ok;
          t.n_other += rows[k].pred == YesNo::kUnparseable;
          both = both && ok;
        }
        t.n_both_correct += both;
        t.image_correct.push_back(right);
      }
      t.acc = static_cast<double>(t.n_correct) / static_cast<double>(t.n_questions);
      t.acc_plus = static_cast<double>(t.n_both_correct) / static_cast<double>(t.n_images);
      t.score = mme_subtask_score(t.n_correct, t.n_questions, t.n_both_correct, t.n_images);
      total += t.score;
      out.n_questions += t.n_questions;
      out.n_other += t.n_other;
      out.tasks.push_back(t);
    }
  };
  score_group(mme_perception_tasks(), out.perception);
  score_group(mme_cognition_tasks(), out.cognition);
  out.unparseable_rate = out.n_questions ? static_cast<double>(out.n_other) / static_cast<double>(out.n_questions) : 0;
  return out;
}

}  // namespace lnb::metrics
