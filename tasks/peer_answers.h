// Answers produced by other harnesses, and those harnesses' own scoring of them, so
// `lnbench score TASK --from lmms-eval FILE` shows lnbench's numbers beside the peer's
// for the same answers and says where and why they differ.
//
// lmms-eval 0.7.x sample logs (`--log_samples`: <date>_samples_<task>.jsonl): one JSON
// object per document with `doc_id`, `doc` (the dataset row without its image), `target`,
// `resps` and `filtered_resps` (the answer lmms-eval scored: filtered_resps[0]).
//
// How records map to the benchmark:
//   POPE: doc.category is the split (random | popular | adversarial), doc.question_id
//         the question's id within it, doc.answer the label; lnbench id "split/qid".
//   MME:  doc.category is the subtask, doc.question_id the image ("count/000000006040.jpg"),
//         doc.answer the label; an image's two questions are its two records in doc_id
//         order; lnbench id "subtask/image#k".
// A record whose key repeats one already read is a duplicate; duplicates are counted,
// reported with an example and left out (the first is kept). Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lnb::tasks {

struct PeerRecord {
  long line = 0;          // in the file
  int64_t doc_id = 0;
  nlohmann::json doc;     // the dataset row as logged
  std::string response;   // filtered_resps[0]: what the peer scored
  nlohmann::json fields;  // the rest of the record (target, resps, the task's metric dicts), doc removed
};

// Every record of an lmms-eval sample log, file order. DataError naming file, line and
// field for a record without doc_id, doc or a string response.
std::vector<PeerRecord> read_lmms_eval_samples(const std::filesystem::path& path);

// --- lmms-eval's own aggregations (tasks/pope/utils.py, tasks/mme/utils.py of 0.7.3),
// re-implemented operation for operation so the doubles equal Python's.
struct LmmsEvalPope {
  double accuracy = 0, precision = 0, recall = 0, f1 = 0, yes_ratio = 0;  // zero divisions give 0, as there
  int64_t n = 0;
};
// labels and predictions as lmms-eval sees them: doc["answer"].lower().strip() and the
// response .lower().strip(), pooled over every record.
LmmsEvalPope lmms_eval_pope(const std::vector<std::string>& labels, const std::vector<std::string>& responses);

struct LmmsEvalMme {
  double perception = 0, cognition = 0;
  std::vector<std::pair<std::string, double>> categories;  // first-seen order, as logged
};
// lmms-eval's parse_pred_ans ("Otter Eval"): lower, strip, drop '.'; yes/no exact; y/n;
// else yes then no searched in the first 4 characters; else "other".
std::string lmms_eval_mme_parse(std::string_view response);
// categories[i], image keys[i] (doc.question_id), labels[i] (doc.answer), responses[i].
LmmsEvalMme lmms_eval_mme(const std::vector<std::string>& categories, const std::vector<std::string>& images,
                          const std::vector<std::string>& labels, const std::vector<std::string>& responses);

// lmms-eval's VQAv2 val (tasks/vqav2/utils.py vqav2_process_results): the prediction and
// the ten answers through EvalAIAnswerProcessor's process_punctuation then
// process_digit_article (no lowercasing before the punctuation pass, no word_tokenize),
// leave-one-out min(1, m/3), statistics.mean over the ten (exact), and the "mean"
// aggregation sum(acc) / n over the documents. 0-1, not x100.
double lmms_eval_vqa_accuracy(const std::vector<std::string>& answers, const std::vector<std::string>& confidences,
                              const std::vector<int64_t>& answer_ids, std::string_view response);
double lmms_eval_mean(const std::vector<double>& values);

// --- VLMEvalKit prediction files (<model>_<dataset>.{tsv,json}; PRED_FORMAT picks it) --
// Columns read: index, question, answer (Yes/No), category, prediction, and for MME
// image_path. tsv as pandas.read_csv(sep='\t') reads VLMEvalKit's QUOTE_ALL output
// (quoted fields, "" for a quote, newlines inside quotes); json as the list of records
// dump_json writes. An empty or NA-like prediction cell is the string "nan", as
// str(NaN) gives it in VLMEvalKit's evaluate. xlsx (the default PRED_FORMAT) is not
// read: no maintained xlsx reader is packaged for Debian; rerun with PRED_FORMAT=tsv or
// json, or save the sheet as tsv.
struct PeerRow {
  long line = 0;  // tsv: the record's first line; json: the record's position (1-based)
  std::map<std::string, std::string> cols;
};
std::vector<PeerRow> read_vlmevalkit_predictions(const std::filesystem::path& path);
// A column's value; DataError naming file, record and column when it is absent.
const std::string& peer_col(const PeerRow& row, const std::string& name, const std::filesystem::path& path);

// VLMEvalKit's YOrN_Extraction (utils/yorn.py): lower, process_punctuation (smp/misc.py:
// the VQA pass with the period look-behind, metrics::vqa_punctuation_pass),
// split on whitespace; "Yes" if the words hold yes and not no, "No" the other way round,
// else "Unknown" (an LLM judge would be asked; lnbench scores exact_matching, the judge off).
std::string vlmevalkit_yorn(std::string_view prediction);

struct VlmevalkitPopeSplit {
  std::string split;  // "Overall" first, then the categories (sorted)
  double overall = 0, acc = 0, precision = 0, recall = 0;  // x100 as POPE_rating reports
};
// POPE_rating: categories split on ',' (a row counts once per category), Overall over all.
std::vector<VlmevalkitPopeSplit> vlmevalkit_pope(const std::vector<std::string>& answers,
                                                 const std::vector<std::string>& extracted,
                                                 const std::vector<std::string>& categories);

struct VlmevalkitMme {
  std::optional<double> perception, reasoning;  // nullopt: a category missing (MME_rating's KeyError)
  std::vector<std::pair<std::string, double>> categories;  // first-seen order
};
// MME_rating: per category mean(score)*100 + mean over images of both-correct *100.
VlmevalkitMme vlmevalkit_mme(const std::vector<std::string>& categories, const std::vector<std::string>& images,
                             const std::vector<std::string>& answers, const std::vector<std::string>& extracted);

}  // namespace lnb::tasks
