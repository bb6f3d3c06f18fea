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
        for (size_t k = i; k < i + 2; ++k) {
          if (rows[k].gt == YesNo::kUnparseable)
            throw std::invalid_argument("MME task '" + task + "': a ground truth is not yes/no");
          const bool ok = rows[k].pred == rows[k].gt;  // "other" is always wrong
          t.n_correct += ok;
          t.n_other += rows[k].pred == YesNo::kUnparseable;
          both = both && ok;
        }
        t.n_both_correct += both;
      }
      t.acc = static_cast<double>(t.n_correct) / static_cast<double>(t.n_questions);
      t.acc_plus = static_cast<double>(t.n_both_correct) / static_cast<double>(t.n_images);
      t.score = t.acc * 100 + t.acc_plus * 100;
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
