// `lnbench score TASK ...`: scores existing predictions in each benchmark's own
// files, no model needed. Prints a table, or with --json one object whose doubles
// round-trip exactly. Bad input -> DataError message and exit code 2.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "harness/cli.h"
#include "harness/score_output.h"
#include "harness/score_peers.h"
#include "metrics/caption_metrics.h"
#include "metrics/mme.h"
#include "metrics/pope.h"
#include "metrics/ptb_tokenizer.h"
#include "metrics/vqa.h"
#include "tasks/answer_parsers.h"
#include "tasks/benchmark_files.h"
#include "common/json_io.h"
#include "tasks/data_error.h"
#include "tasks/scoring.h"

namespace lnb::harness {
namespace {

using nlohmann::ordered_json;
using namespace score_output;  // NOLINT: fmt, opt, opt_str, print_json

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Document frequencies from every image of a COCO annotation file (tokenized like the
// evaluated references), for the fixed-reference IDF mode.
metrics::FixedIdf fixed_idf_from(const std::string& path) {
  return metrics::FixedIdf::from_references(
      metrics::coco_tokenize_grouped(tasks::read_coco_caption_inputs_all(path).references));
}

int score_caption(const std::string& ann, const std::string& res, bool per_image, bool as_json,
                  const std::string& idf_reference) {
  auto t = std::chrono::steady_clock::now();
  const tasks::CaptionInputs in = tasks::read_coco_caption_inputs(ann, res);
  const double t_read = seconds_since(t);
  t = std::chrono::steady_clock::now();
  metrics::FixedIdf fixed;
  if (!idf_reference.empty()) fixed = fixed_idf_from(idf_reference);
  // The results file's captions as pycocoevalcap reads them (the caption task scores
  // what it exports, through the same function).
  const metrics::CaptionScores s =
      tasks::score_captions(in.image_ids, in.references, in.candidates, idf_reference.empty() ? nullptr : &fixed).scores;
  const double t_score = seconds_since(t);
  if (as_json) {
    ordered_json j = {{"schema", "lnbench.score.caption/1"},
                      {"n_images", s.n_images},
                      {"Bleu_1", s.bleu[0]}, {"Bleu_2", s.bleu[1]}, {"Bleu_3", s.bleu[2]}, {"Bleu_4", s.bleu[3]},
                      {"ROUGE_L", s.rouge_l}, {"CIDEr", s.cider},
                      {"cider_scale", "x1 (pycocoevalcap); papers often print x100"},
                      {"idf", s.idf_mode}, {"tokenizer", "ptb-3.4.1-coco"},
                      {"timing_s", {{"read", t_read}, {"tokenize_and_score", t_score}}}};
    if (per_image) {
      ordered_json rows = ordered_json::array();
      for (const auto& p : s.per_image)
        rows.push_back({{"image_id", p.image_id}, {"Bleu_1", p.bleu[0]}, {"Bleu_2", p.bleu[1]}, {"Bleu_3", p.bleu[2]},
                        {"Bleu_4", p.bleu[3]}, {"ROUGE_L", p.rouge_l}, {"CIDEr", p.cider}});
      j["per_image"] = rows;
    }
    print_json(j);
    return kExitOk;
  }
  std::cout << "caption metrics over " << s.n_images << " images (PTB tokenizer, CIDEr-D x1, IDF: " << s.idf_mode << ")\n";
  for (int n = 0; n < 4; ++n) std::cout << "  Bleu_" << n + 1 << "  " << fmt(s.bleu[n], 6) << "\n";
  std::cout << "  ROUGE_L " << fmt(s.rouge_l, 6) << "\n  CIDEr   " << fmt(s.cider, 6) << "  (x100: " << fmt(100 * s.cider, 2) << ")\n";
  if (per_image) {
    std::cout << "\n  image_id  Bleu_4  ROUGE_L  CIDEr\n";
    for (const auto& p : s.per_image)
      std::cout << "  " << p.image_id << "  " << fmt(p.bleu[3]) << "  " << fmt(p.rouge_l) << "  " << fmt(p.cider) << "\n";
  }
  return kExitOk;
}

// One tokenizer run over all of stdin, as pycocoevalcap would tokenize these captions.
int tokenize_only() {
  std::vector<std::string> lines;
  for (std::string line; std::getline(std::cin, line);) lines.push_back(line);
  for (const std::string& t : metrics::coco_tokenize(lines)) std::cout << t << "\n";
  return kExitOk;
}

int score_vqa(const std::string& q, const std::string& a, const std::string& r, const std::string& norm, bool as_json) {
  const tasks::VqaInputs in = tasks::read_vqa_inputs(q, a, r);
  std::vector<tasks::VqaItem> items;
  std::vector<std::string_view> answers;
  for (size_t i = 0; i < in.questions.size(); ++i) {
    items.push_back({std::to_string(in.questions[i].question_id), static_cast<int64_t>(i), &in.questions[i]});
    answers.push_back(in.predictions[i]);
  }
  const metrics::VqaScores s = tasks::score_vqa(items, answers, {metrics::parse_vqa_normalization(norm)}).scores[0];
  if (as_json) {
    print_json({{"schema", "lnbench.score.vqav2/1"}, {"normalization", s.normalization}, {"n_questions", s.n_questions},
                {"overall", s.overall}, {"overall_unrounded", s.overall_unrounded},
                {"perAnswerType", s.per_answer_type}, {"perQuestionType", s.per_question_type}});
    return kExitOk;
  }
  std::cout << "VQA accuracy (" << s.normalization << " normalization) over " << s.n_questions << " questions\n"
            << "  overall " << fmt(s.overall, 2) << "\n";
  for (const auto& [k, v] : s.per_answer_type) std::cout << "  " << k << "  " << fmt(v, 2) << "\n";
  return kExitOk;
}

ordered_json pope_json(const metrics::PopeScores& s) {
  return {{"accuracy", opt(s.accuracy)}, {"precision", opt(s.precision)}, {"recall", opt(s.recall)},
          {"f1", opt(s.f1)}, {"yes_ratio", opt(s.yes_ratio)}, {"tp", s.tp}, {"fp", s.fp}, {"tn", s.tn}, {"fn", s.fn},
          {"n_answers", s.n_answers}, {"n_scored", s.n_scored}, {"unparseable_rate", s.unparseable_rate},
          {"notes", s.notes}};
}

// The label file's split: coco_pope_<split>.json names it, any other file its own stem.
std::string pope_split_of(const std::filesystem::path& labels) {
  const std::string stem = labels.stem().string();
  for (const char* s : {"random", "popular", "adversarial"})
    if (stem == std::string("coco_pope_") + s) return s;
  return stem;
}

int score_pope(const std::string& labels_path, const std::string& answers_path, const std::string& join, bool skip_bad,
               bool as_json) {
  const auto labels = tasks::read_pope_labels(labels_path);
  const auto answers = tasks::read_pope_answers(answers_path);
  const std::string split = pope_split_of(labels_path);
  std::vector<std::string> notes;
  // A label becomes ground truth through the POPE task's own rule (tasks/scoring.h): yes
  // or no in any case. Anything else fails naming the line or, with --skip-bad-samples,
  // drops that question (and its answer) as a counted skip; never a silent yes.
  std::vector<std::optional<metrics::YesNo>> truth(labels.size());
  std::vector<tasks::Skip> skipped;
  for (size_t i = 0; i < labels.size(); ++i) {
    try {
      truth[i] = tasks::pope_label(labels[i].label, labels_path, labels[i].line);
    } catch (const tasks::DataError& e) {
      if (!skip_bad) throw;
      skipped.push_back({labels_path, labels[i].line, "label " + e.info().got + " is neither yes nor no"});
    }
  }
  std::vector<tasks::PopeItem> items;
  std::vector<std::string_view> texts;
  auto add = [&](size_t answer, std::optional<metrics::YesNo> gt, const std::string& id) {
    items.push_back({split, id, gt});
    texts.push_back(answers[answer].text);
  };
  if (join == "position") {
    for (size_t i = 0; i < answers.size(); ++i) {
      if (i < labels.size() && !truth[i]) continue;  // a skipped label takes its answer with it
      add(i, i < labels.size() ? truth[i] : std::nullopt, std::to_string(i));
    }
    if (answers.size() != labels.size())
      notes.push_back(std::to_string(answers.size()) + " answers vs " + std::to_string(labels.size()) +
                      " labels: paired by position up to the shorter, as the reference does");
  } else if (join == "question_id") {
    std::unordered_map<int64_t, size_t> by_id;  // question_id -> label index
    for (size_t i = 0; i < labels.size(); ++i)
      if (!by_id.emplace(labels[i].question_id, i).second)
        throw tasks::DataError({labels_path, labels[i].line, "question_id", "unique ids (--join question_id)",
                                std::to_string(labels[i].question_id) + " again (first on line " +
                                    std::to_string(labels[by_id[labels[i].question_id]].line) + ")", ""});
    std::unordered_map<int64_t, long> seen;  // question_id -> answers line
    for (size_t i = 0; i < answers.size(); ++i) {
      if (!answers[i].question_id)
        throw tasks::DataError({answers_path, answers[i].line, "question_id", "an integer (--join question_id)", "none", ""});
      const auto it = by_id.find(*answers[i].question_id);
      if (it == by_id.end())
        throw tasks::DataError({answers_path, answers[i].line, "question_id", "an id of the label file",
                                std::to_string(*answers[i].question_id), ""});
      if (const auto [at, fresh] = seen.emplace(*answers[i].question_id, answers[i].line); !fresh)
        throw tasks::DataError({answers_path, answers[i].line, "question_id", "one answer per question",
                                std::to_string(*answers[i].question_id) + " again (first on line " + std::to_string(at->second) + ")",
                                "a duplicate would be counted twice"});
      if (!truth[it->second]) continue;
      add(i, truth[it->second], std::to_string(*answers[i].question_id));
    }
  } else {
    throw std::invalid_argument("--join must be position or question_id");
  }
  const tasks::PopeScored scored = tasks::score_pope(items, texts);
  const metrics::PopeScores no_items;
  const metrics::PopeScores& r = scored.splits.empty() ? no_items : scored.splits[0].reference;
  const metrics::PopeScores& e = scored.splits.empty() ? no_items : scored.splits[0].exact;
  ordered_json skipped_json = ordered_json::array();
  for (size_t i = 0; i < skipped.size() && i < 20; ++i)
    skipped_json.push_back({{"file", skipped[i].file}, {"line", skipped[i].line}, {"reason", skipped[i].reason}});
  if (as_json) {
    print_json({{"schema", "lnbench.score.pope/1"}, {"join", join}, {"split", split}, {"notes", notes},
                {"pope-reference", pope_json(r)}, {"exact", pope_json(e)},
                {"skipped", {{"count", skipped.size()}, {"first", skipped_json}}}});
    return kExitOk;
  }
  for (const auto& n : notes) std::cout << "note: " << n << "\n";
  if (!skipped.empty())
    std::cout << "skipped " << skipped.size() << " question(s) with a bad label, first: line " << skipped[0].line << ": "
              << skipped[0].reason << "\n";
  std::cout << "POPE " << split << " (" << items.size() << " answers)   parser: pope-reference | exact\n"
            << "  accuracy   " << opt_str(r.accuracy) << " | " << opt_str(e.accuracy) << "\n"
            << "  precision  " << opt_str(r.precision) << " | " << opt_str(e.precision) << "\n"
            << "  recall     " << opt_str(r.recall) << " | " << opt_str(e.recall) << "\n"
            << "  f1         " << opt_str(r.f1) << " | " << opt_str(e.f1) << "\n"
            << "  yes_ratio  " << opt_str(r.yes_ratio) << " | " << opt_str(e.yes_ratio) << "\n"
            << "  unparseable " << fmt(r.unparseable_rate) << " | " << fmt(e.unparseable_rate) << "\n";
  return kExitOk;
}

int score_mme(const std::string& dir, bool as_json) {
  std::vector<std::string> tasks_all = metrics::mme_perception_tasks();
  for (const auto& t : metrics::mme_cognition_tasks()) tasks_all.push_back(t);
  if (!std::filesystem::is_directory(dir))
    throw tasks::DataError({dir, 0, "", "a folder of eval_tool result files (<subtask>.txt)",
                            std::filesystem::exists(dir) ? "a file" : "no such folder", "pass --results-dir FOLDER"});
  // Every line through the MME task's own scoring (tasks/scoring.h): the GT rule, the
  // eval_tool parse of the response as readlines() gives it.
  std::vector<tasks::MmeItem> items;
  std::vector<std::string> responses;
  size_t n_files = 0;
  for (const std::string& task : tasks_all) {
    const std::filesystem::path file = std::filesystem::path(dir) / (task + ".txt");
    if (!std::filesystem::exists(file)) continue;
    ++n_files;
    const auto lines = tasks::read_mme_task_file(file);
    if (lines.size() % 2 != 0)
      throw tasks::DataError({file.string(), static_cast<long>(lines.size()), "", "an even number of lines (2 per image)",
                              std::to_string(lines.size()) + " lines", "the eval_tool pairs consecutive lines"});
    for (size_t i = 0; i < lines.size(); ++i) {
      items.push_back({task, task + "/" + lines[i].image + "#" + std::to_string(i % 2), lines[i].gt, file.string(),
                       static_cast<long>(i + 1)});
      std::string r = lines[i].response;
      if (!r.empty() && r.back() == '\n') r.pop_back();  // score_mme adds the line end back for every line
      responses.push_back(std::move(r));
    }
  }
  if (n_files == 0)
    throw tasks::DataError({dir, 0, "", "at least one MME subtask file (existence.txt, ..., code_reasoning.txt)", "none",
                            "a missing result is not a score of 0"});
  const std::vector<std::string_view> views(responses.begin(), responses.end());
  const metrics::MmeScores s = tasks::score_mme(items, views).scores;
  if (as_json) {
    ordered_json tasks_json = ordered_json::object();
    for (const auto& t : s.tasks)
      tasks_json[t.task] = {{"score", t.score}, {"acc", t.acc}, {"acc_plus", t.acc_plus},
                            {"n_questions", t.n_questions}, {"n_other", t.n_other}};
    print_json({{"schema", "lnbench.score.mme/1"}, {"perception", s.perception}, {"cognition", s.cognition},
                {"tasks", tasks_json}, {"unparseable_rate", s.unparseable_rate}, {"missing_tasks", s.missing_tasks}});
    return kExitOk;
  }
  std::cout << "MME (eval_tool semantics)\n";
  for (const auto& t : s.tasks)
    std::cout << "  " << t.task << "  score " << fmt(t.score, 2) << "  acc " << fmt(t.acc) << "  acc+ " << fmt(t.acc_plus) << "\n";
  std::cout << "  Perception total " << fmt(s.perception, 2) << "\n  Cognition total  " << fmt(s.cognition, 2) << "\n";
  for (const auto& m : s.missing_tasks) std::cout << "  (no " << m << ".txt)\n";
  return kExitOk;
}

}  // namespace

void register_score(CLI::App& app, int& exit_code) {
  CLI::App* score = app.add_subcommand("score", "Score existing predictions in each benchmark's own files (no model)");
  score->require_subcommand(1);

  struct CaptionArgs {
    std::string ann, res, idf_reference;
    std::vector<std::string> from;
    bool per_image = false, json = false, tokenize_only = false;
  };
  static CaptionArgs ca;
  CLI::App* cap = score->add_subcommand("caption", "COCO caption metrics: Bleu_1..4, ROUGE_L, CIDEr (pycocoevalcap-exact)");
  cap->add_option("--annotations", ca.ann, "COCO annotation JSON (images, annotations[image_id, caption])");
  cap->add_option("--results", ca.res, "COCO results JSON ([{image_id, caption}])");
  cap->add_flag("--per-image", ca.per_image, "Also print per-image scores");
  cap->add_flag("--json", ca.json, "One JSON object, doubles at full precision");
  cap->add_flag("--tokenize-only", ca.tokenize_only, "Tokenize captions from stdin, one per line");
  cap->add_option("--from", ca.from, "PEER FILE: a peer's captions, scored by lnbench and by the peer's rules side by "
                                     "side. PEER: lmms-eval (a coco*/flickr30k* --log_samples sample log)")
      ->expected(2);
  cap->add_option("--idf-reference", ca.idf_reference,
                  "CIDEr IDF 'fixed-reference': document frequencies from every image of this COCO annotation "
                  "file, so a subset run stays comparable to a full run (default: the evaluated set, as pycocoevalcap)");
  cap->callback([&exit_code] {
    guarded(exit_code, [] {
      if (ca.tokenize_only) return tokenize_only();
      if (!ca.from.empty()) {
        check_peer(ca.from[0]);
        if (ca.from[0] != "lmms-eval")
          throw std::invalid_argument("--from vlmevalkit: lnbench reads VLMEvalKit's yes/no datasets (pope, mme) only");
        if (!ca.ann.empty() || !ca.res.empty())
          throw std::invalid_argument("--from brings its own references: give it without --annotations/--results");
        return score_caption_from_lmms_eval(ca.from[1], ca.json);
      }
      if (ca.ann.empty() || ca.res.empty()) throw std::invalid_argument("--annotations and --results are required (or --from)");
      return score_caption(ca.ann, ca.res, ca.per_image, ca.json, ca.idf_reference);
    });
  });

  struct VqaArgs {
    std::string q, a, r, norm = "official";
    std::vector<std::string> from;
    bool json = false;
  };
  static VqaArgs va;
  CLI::App* vqa = score->add_subcommand("vqav2", "VQAv2 accuracy with answer- and question-type breakdowns");
  vqa->add_option("--questions", va.q, "v2_OpenEnded_mscoco_*_questions.json");
  vqa->add_option("--annotations", va.a, "v2_mscoco_*_annotations.json");
  vqa->add_option("--results", va.r, "[{question_id, answer}]");
  vqa->add_option("--from", va.from, "PEER FILE: a peer's answers, scored by lnbench and by the peer's rules side by "
                                     "side. PEER: lmms-eval (a vqav2_val --log_samples sample log)")
      ->expected(2);
  vqa->add_option("--normalization", va.norm, "official (2021, default) | pre2021 | llava");
  vqa->add_flag("--json", va.json, "One JSON object");
  vqa->callback([&exit_code] {
    guarded(exit_code, [] {
      if (!va.from.empty()) {
        check_peer(va.from[0]);
        if (va.from[0] != "lmms-eval")
          throw std::invalid_argument("--from vlmevalkit: VLMEvalKit has no VQAv2 val dataset; lnbench reads lmms-eval's");
        if (!va.q.empty() || !va.a.empty() || !va.r.empty())
          throw std::invalid_argument("--from brings its own answers (doc.answers): give it without --questions/--annotations/--results");
        return score_vqa_from_lmms_eval(va.from[1], va.json);
      }
      if (va.q.empty() || va.a.empty() || va.r.empty())
        throw std::invalid_argument("--questions, --annotations and --results are required (or --from)");
      return score_vqa(va.q, va.a, va.r, va.norm, va.json);
    });
  });

  struct PopeArgs {
    std::string labels, answers, join = "position";
    std::vector<std::string> from;
    bool json = false, skip_bad = false;
  };
  static PopeArgs pa;
  CLI::App* pope = score->add_subcommand("pope", "POPE accuracy/precision/recall/F1/yes-ratio with both parsers");
  pope->add_option("--labels", pa.labels, "coco_pope_SPLIT.json (JSON lines)");
  pope->add_option("--answers", pa.answers, "answers JSON lines: 'answer' (POPE) or 'text' (LLaVA)");
  pope->add_option("--from", pa.from, "PEER FILE: a peer's answers, scored by lnbench and by the peer's rules side by "
                                      "side. PEER: lmms-eval (a --log_samples sample log) | vlmevalkit (a prediction .tsv or .json)")
      ->expected(2);
  pope->add_option("--join", pa.join, "position (the reference's pairing, default) | question_id");
  pope->add_flag("--json", pa.json, "One JSON object");
  pope->add_flag("--skip-bad-samples", pa.skip_bad,
                 "count a label that is neither yes nor no as a skipped question (with its answer) instead of failing");
  pope->callback([&exit_code] {
    guarded(exit_code, [] {
      if (!pa.from.empty()) {
        check_peer(pa.from[0]);
        if (!pa.labels.empty() || !pa.answers.empty())
          throw std::invalid_argument("--from brings its own labels (doc.answer): give it without --labels/--answers");
        return pa.from[0] == "lmms-eval" ? score_pope_from_lmms_eval(pa.from[1], pa.skip_bad, pa.json)
                                         : score_pope_from_vlmevalkit(pa.from[1], pa.skip_bad, pa.json);
      }
      if (pa.labels.empty() || pa.answers.empty()) throw std::invalid_argument("--labels and --answers are required (or --from)");
      return score_pope(pa.labels, pa.answers, pa.join, pa.skip_bad, pa.json);
    });
  });

  struct MmeArgs {
    std::string dir;
    std::vector<std::string> from;
    bool json = false;
  };
  static MmeArgs ma;
  CLI::App* mme = score->add_subcommand("mme", "MME scores with the official eval_tool semantics");
  mme->add_option("--results-dir", ma.dir, "folder with one <task>.txt per subtask (eval_tool format)");
  mme->add_option("--from", ma.from, "PEER FILE: a peer's answers, scored by lnbench and by the peer's rules side by "
                                     "side. PEER: lmms-eval (a --log_samples sample log) | vlmevalkit (a prediction .tsv or .json)")
      ->expected(2);
  mme->add_flag("--json", ma.json, "One JSON object");
  mme->callback([&exit_code] {
    guarded(exit_code, [] {
      if (!ma.from.empty()) {
        check_peer(ma.from[0]);
        if (!ma.dir.empty()) throw std::invalid_argument("give --from or --results-dir, not both");
        return ma.from[0] == "lmms-eval" ? score_mme_from_lmms_eval(ma.from[1], ma.json)
                                         : score_mme_from_vlmevalkit(ma.from[1], ma.json);
      }
      if (ma.dir.empty()) throw std::invalid_argument("--results-dir is required (or --from)");
      return score_mme(ma.dir, ma.json);
    });
  });

  register_score_task(score, exit_code);
}

}  // namespace lnb::harness
