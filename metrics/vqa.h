// VQAv2 accuracy (specs/metrics.md §2): the official answer normalization in three
// pinned variants, leave-one-out min(1, m/3) over the ten answers, Python's
// round-half-even to two decimals, per answer type and per question type.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lnb::metrics {

enum class VqaNormalization {
  kOfficial,  // GT-Vision-Lab/VQA a013f00 (2021-03, default): normalize only when GT answers disagree
  kPre2021,   // a4f1afd: always normalize the prediction; GT punctuation only
  kLlava,     // LLaVA / EvalAI EvalAIAnswerProcessor on prediction and all GT answers
};

// "official" | "pre2021" | "llava"; throws std::invalid_argument listing the choices.
VqaNormalization parse_vqa_normalization(std::string_view name);
std::string_view to_string(VqaNormalization n);

// The building blocks, exposed for tests and for the peers' variants (tasks/peer_answers).
// The punctuation pass: each of VQA's punctuation marks becomes "" or " ", then periods
// not before a digit go. Which digit-comma-digit pattern makes every mark "": none (EvalAI
// after its word_tokenize has removed commas), the official (\d)(\,)(\d), or EvalAI's
// (?<=\d)(\,)+(?=\d). period_lookbehind: VLMEvalKit's (?<!\d)\.(?!\d) instead of the
// official typo (?!<=\d)(\.)(?!\d).
enum class VqaCommaRule { kNever, kOneComma, kCommaRun };
std::string vqa_punctuation_pass(std::string_view s, VqaCommaRule comma, bool period_lookbehind);
std::string vqa_process_punctuation(std::string_view s);  // official: kOneComma, no look-behind
std::string vqa_process_digit_article(std::string_view s);
std::string vqa_evalai_process(std::string_view s);  // LLaVA's EvalAIAnswerProcessor

struct VqaGtAnswer {
  std::string answer;
  std::string confidence;  // "yes" | "maybe" | "no": part of the dict comparison
  int64_t answer_id = 0;
};

struct VqaQuestion {
  int64_t question_id = 0;
  std::string question_type;  // the annotation's prefix type
  std::string answer_type;    // "yes/no" | "number" | "other"
  std::vector<VqaGtAnswer> answers;  // ten in the official files
};

struct VqaScores {
  double overall = 0;                       // round(100 * mean, 2)
  double overall_unrounded = 0;             // 100 * mean
  std::map<std::string, double> per_answer_type;    // rounded like overall
  std::map<std::string, double> per_question_type;
  std::vector<std::pair<int64_t, double>> per_question;  // (question_id, round(100*acc, 2)) in order
  int64_t n_questions = 0;
  std::string normalization;
};

// One question's accuracy in [0, 1] (before the x100 and rounding).
double vqa_question_accuracy(const VqaQuestion& q, std::string_view prediction, VqaNormalization norm);

class VqaAccumulator {
 public:
  explicit VqaAccumulator(VqaNormalization norm = VqaNormalization::kOfficial) : norm_(norm) {}
  // `order` = the question's position in the annotation file (the official loop order).
  void add(int64_t order, const VqaQuestion& q, std::string_view prediction);
  void merge(const VqaAccumulator& other);
  VqaScores compute() const;

 private:
  struct Row {
    int64_t order, question_id;
    std::string question_type, answer_type;
    double acc;
  };
  VqaNormalization norm_;
  std::vector<Row> rows_;
};

// The 65 question-type prefixes of VQA's mscoco_question_types.txt.
const std::vector<std::string>& vqa_mscoco_question_types();

// Longest matching prefix among the question types (e.g. mscoco's 65); "" if none.
std::string vqa_question_type(std::string_view question, const std::vector<std::string>& types);

}  // namespace lnb::metrics
