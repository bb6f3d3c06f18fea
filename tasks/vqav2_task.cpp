// VQAv2 over the official files: v2_OpenEnded_mscoco_<split>_questions.json (+ the
// val annotations) and the COCO image folders. val is scored locally with the
// official accuracy (and LLaVA's EvalAI normalization beside it); test-dev and test
// have no public answers and are exported as an EvalAI submission that covers every
// test2015 question id, unanswered ones as "" (LLaVA's convert_vqav2_for_submission.py).
#include <fstream>
#include <unordered_map>

#include "metrics/vqa.h"
#include "common/file_io.h"
#include "tasks/benchmark_files.h"
#include "metrics/utf8.h"
#include "tasks/data_error.h"
#include "tasks/json_out.h"
#include "tasks/scoring.h"
#include "tasks/task.h"
#include "tasks/text_util.h"

namespace lnb::tasks {
namespace {

using nlohmann::ordered_json;

constexpr int kDefaultMaxNewTokens = 128;  // LLaVA's scripts

struct SplitFiles {
  const char* questions;
  const char* annotations;  // "" = no public answers
  const char* images;
  const char* image_prefix;
};

SplitFiles split_files(const std::string& split) {
  if (split == "val") return {"v2_OpenEnded_mscoco_val2014_questions.json", "v2_mscoco_val2014_annotations.json", "val2014", "COCO_val2014_"};
  if (split == "test-dev") return {"v2_OpenEnded_mscoco_test-dev2015_questions.json", "", "test2015", "COCO_test2015_"};
  if (split == "test") return {"v2_OpenEnded_mscoco_test2015_questions.json", "", "test2015", "COCO_test2015_"};
  throw std::invalid_argument("VQAv2 split '" + split + "' is not one of val, test-dev, test");
}

std::string coco_image_name(const std::string& prefix, int64_t image_id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012lld", static_cast<long long>(image_id));
  return prefix + buf + ".jpg";
}

class Vqav2Task final : public Task {
 public:
  std::string_view name() const override { return "vqav2"; }
  std::vector<std::pair<std::string, std::string>> files() const override {
    return {{"questions", "v2_OpenEnded_mscoco_{val2014,test-dev2015,test2015}_questions.json by split"},
            {"annotations", "v2_mscoco_val2014_annotations.json (val only)"},
            {"test_questions", "v2_OpenEnded_mscoco_test2015_questions.json: every id an EvalAI submission must cover"},
            {"images", "val2014 or test2015: the folder of COCO_<subset>_<12-digit id>.jpg"}};
  }

 protected:
  LoadInfo do_load(const TaskOptions& options) override {
    split_ = options.split.empty() ? "val" : options.split;
    const SplitFiles sf = split_files(split_);
    const fs::path questions = file_option(options, "questions", sf.questions);
    const fs::path images = file_option(options, "images", sf.images);
    test_questions_ = file_option(options, "test_questions", "v2_OpenEnded_mscoco_test2015_questions.json");
    LoadInfo info;
    info.metric_version = "vqav2/1 official-a013f00 + evalai";
    info.data_files.push_back(questions);
    const std::vector<VqaQuestionText> qs = read_vqa_questions(questions);
    std::unordered_map<int64_t, size_t> gt_index;
    std::vector<metrics::VqaQuestion> gt;
    if (*sf.annotations != '\0') {
      const fs::path annotations = file_option(options, "annotations", sf.annotations);
      info.data_files.push_back(annotations);
      std::unordered_map<int64_t, std::string> texts;
      for (const auto& q : qs) texts[q.question_id] = q.question;
      gt = read_vqa_annotations(annotations, texts);
      for (size_t i = 0; i < gt.size(); ++i) gt_index.emplace(gt[i].question_id, i);
    }
    const std::string suffix = short_answer_suffix(options);
    const int max_new = max_new_tokens(options, kDefaultMaxNewTokens);
    for (size_t i = 0; i < qs.size(); ++i) {
      const VqaQuestionText& q = qs[i];
      if (q.image_id < 0)
        throw DataError({questions.string(), 0, "questions[" + std::to_string(i) + "].image_id", "an image id", "none", ""});
      const fs::path image = inside_root(images, coco_image_name(sf.image_prefix, q.image_id), questions.string(), 0,
                                         "questions[" + std::to_string(i) + "].image_id");
      if (!fs::is_regular_file(image)) {
        bad_sample(options, {questions.string(), 0, "image " + image.string() + " of question " + std::to_string(q.question_id) + " not found"});
        continue;
      }
      if (!gt.empty()) {
        const auto it = gt_index.find(q.question_id);
        if (it == gt_index.end()) {
          bad_sample(options, {questions.string(), 0, "question " + std::to_string(q.question_id) + " has no annotation"});
          continue;
        }
        gt_.push_back(gt[it->second]);
        gt_order_.push_back(static_cast<int64_t>(it->second));
      }
      Request r;
      r.id = std::to_string(q.question_id);
      r.split = split_;
      r.group = std::to_string(q.image_id);
      r.image = image;
      r.turns.push_back({std::string(kImageMarker) + "\n" + q.question + suffix, std::nullopt});
      r.max_new_tokens = max_new;
      requests_.push_back(std::move(r));
      question_ids_.push_back(q.question_id);
    }
    info.prompt = {{"template", "<image>\\n{question}{suffix}"}, {"suffix", suffix}, {"max_new_tokens", max_new}};
    return info;
  }

  void keep_only(const std::vector<size_t>& kept) override {
    std::vector<int64_t> ids;
    std::vector<metrics::VqaQuestion> gt;
    std::vector<int64_t> gt_order;
    for (size_t i : kept) {
      ids.push_back(question_ids_[i]);
      if (!gt_.empty()) {
        gt.push_back(std::move(gt_[i]));
        gt_order.push_back(gt_order_[i]);
      }
    }
    question_ids_ = std::move(ids);
    gt_ = std::move(gt);
    gt_order_ = std::move(gt_order);
  }

  TaskScores do_score(const std::vector<const std::string*>& answers) const override {
    TaskScores out;
    ordered_json m = metrics_skeleton();
    m["definitions"] = {{"accuracy", "VQA accuracy x100, official GT-Vision-Lab/VQA a013f00 normalization (normalize "
                                     "only when the 10 answers disagree); unrounded"},
                        {"accuracy_official", "the same, rounded to 2 decimals as the official script prints it"},
                        {"accuracy_llava", "LLaVA/EvalAI normalization (EvalAIAnswerProcessor on prediction and answers)"},
                        {"parsed", "the answer after EvalAIAnswerProcessor"},
                        {"split", split_}};
    if (gt_.empty()) {
      for (size_t i = 0; i < answers.size(); ++i)
        out.samples.push_back({requests_[i].id, metrics::vqa_evalai_process(*answers[i]), std::nullopt, std::nullopt,
                               ordered_json::object(), nullptr});
      m["definitions"]["note"] = split_ + " has no public answers: submit the exported EvalAI file";
      out.metrics = std::move(m);
      return out;
    }
    std::vector<VqaItem> items;
    std::vector<std::string_view> views;
    for (size_t i = 0; i < answers.size(); ++i) {
      items.push_back({requests_[i].id, gt_order_[i], &gt_[i]});
      views.push_back(*answers[i]);
    }
    VqaScored scored = score_vqa(items, views, {metrics::VqaNormalization::kOfficial, metrics::VqaNormalization::kLlava});
    out.samples = std::move(scored.samples);
    const metrics::VqaScores &s = scored.scores[0], &l = scored.scores[1];
    m["values"] = {{"accuracy", s.overall_unrounded}, {"accuracy_official", s.overall}, {"accuracy_llava", l.overall_unrounded}};
    for (const auto& [type, acc] : s.per_answer_type) m["splits"][type] = {{"accuracy", acc}};
    std::vector<double> per_question;
    for (const SampleScore& q : out.samples) per_question.push_back(*q.score);
    m["intervals"] = intervals_skeleton("bootstrap over questions of the mean official per-question accuracy x100");
    m["intervals"]["values"]["accuracy"] = interval_json(metrics::bootstrap_mean(per_question, headline_bootstrap("vqav2/accuracy")));
    m["per_question_type"] = s.per_question_type;
    out.metrics = std::move(m);
    return out;
  }

  std::vector<fs::path> do_export(const std::vector<const std::string*>& answers, const fs::path& dir) const override {
    if (!gt_.empty()) {
      // The official results format [{question_id, answer}], raw answers (the scorer normalizes).
      ordered_json res = ordered_json::array();
      for (size_t i = 0; i < answers.size(); ++i)
        res.push_back({{"question_id", question_ids_[i]}, {"answer", metrics::py_strip(*answers[i])}});
      const fs::path p = dir / ("vqav2_" + split_ + "_results.json");
      common::write_file_atomic(p, py_json_dumps(res));
      return {p};
    }
    // convert_vqav2_for_submission.py: every test2015 question in file order, the
    // EvalAI-processed answer where there is one and "" elsewhere.
    if (!fs::is_regular_file(test_questions_))
      throw DataError({test_questions_.string(), 0, "", "the test2015 questions file", "no such file",
                       "an EvalAI submission must cover every test2015 question id; set files.test_questions"});
    std::unordered_map<int64_t, std::string> answered;
    for (size_t i = 0; i < answers.size(); ++i) answered[question_ids_[i]] = metrics::vqa_evalai_process(*answers[i]);
    std::string out = "[";
    bool first = true;
    for (const VqaQuestionText& q : read_vqa_questions(test_questions_)) {
      const auto it = answered.find(q.question_id);
      out += first ? "" : ", ";
      first = false;
      out += "{\"question_id\": " + std::to_string(q.question_id) + ", \"answer\": " +
             py_json_string(it == answered.end() ? "" : it->second) + "}";
    }
    out += "]";
    const fs::path p = dir / ("vqav2_" + split_ + "_evalai_submission.json");
    common::write_file_atomic(p, out);
    return {p};
  }

 private:
  std::string split_;
  fs::path test_questions_;
  std::vector<int64_t> question_ids_;   // parallel to requests_
  std::vector<metrics::VqaQuestion> gt_;  // parallel to requests_; empty without annotations
  std::vector<int64_t> gt_order_;         // parallel to gt_: position in the annotation file (official order)
};

}  // namespace

std::unique_ptr<Task> make_vqav2_task() { return std::make_unique<Vqav2Task>(); }

}  // namespace lnb::tasks
