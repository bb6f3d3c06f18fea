// MME scoring with the official eval_tool semantics (specs/metrics.md §4): per task
// acc, acc+ (both questions of an image right), score = 100*acc + 100*acc+;
// perception (10 tasks) and cognition (4) totals summed in the official order.
// Parsing a response into yes/no/other is tasks/'s job (tasks/mme_parse.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/intervals.h"
#include "metrics/pope.h"  // YesNo

namespace lnb::metrics {

// The official task order.
const std::vector<std::string>& mme_perception_tasks();
const std::vector<std::string>& mme_cognition_tasks();
bool mme_is_perception(std::string_view task);

struct MmeTaskScores {
  std::string task;
  int64_t n_questions = 0, n_images = 0, n_correct = 0, n_both_correct = 0, n_other = 0;
  double acc = 0, acc_plus = 0, score = 0;
  std::vector<uint8_t> image_correct;  // per image (consecutive line pair): questions right, 0-2
};
// 100*acc + 100*acc+ from the counts (compute() and the bootstrap).
double mme_subtask_score(int64_t n_correct, int64_t n_questions, int64_t n_both_correct, int64_t n_images);

struct MmeScores {
  double perception = 0, cognition = 0;
  std::vector<MmeTaskScores> tasks;  // official order; tasks never added are absent
  int64_t n_questions = 0, n_other = 0;
  double unparseable_rate = 0;
  std::vector<std::string> missing_tasks;
};

// Perception and cognition totals by a bootstrap over whole images (the eval_tool's
// line pairs), stratified by subtask so each resample keeps every subtask's size;
// nullopt for a group with no subtask present.
struct MmeIntervals {
  std::optional<Interval> perception, cognition;
};
MmeIntervals mme_intervals(const MmeScores& scores, const BootstrapOptions& opt);

class MmeAccumulator {
 public:
  // `order` = the line's position in the task file: lines 2k and 2k+1 are one image.
  void add(std::string_view task, int64_t order, YesNo gt, YesNo pred);
  void merge(const MmeAccumulator& other);
  // Throws std::invalid_argument for an unknown task, an odd line count, or a GT
  // that is not yes/no.
  MmeScores compute() const;

 private:
  struct Row {
    int64_t order;
    YesNo gt, pred;
  };
  std::map<std::string, std::vector<Row>, std::less<>> rows_;
};

}  // namespace lnb::metrics
