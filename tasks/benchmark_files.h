// Readers for each benchmark's own answer/label files, as `lnbench score` and the
// task adapters consume them. Every reader validates what it uses and throws
// DataError naming the file, line and field; nothing is skipped silently.
// Beside them, writers of the benchmarks' own input files (Karpathy caption splits,
// VQAv2 questions and annotations, POPE label files, MME question files), which the
// demo's world is written with: one place knows each format both ways, and the tests
// read back what was written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <utility>
#include <string>
#include <unordered_map>
#include <vector>

#include "metrics/vqa.h"

namespace lnb::tasks {

namespace fs = std::filesystem;

// --- COCO captions (annotation format + results format) -------------------------
struct CaptionInputs {
  std::vector<std::string> image_ids;              // evaluation order (annotation "images" order)
  std::vector<std::vector<std::string>> references;  // raw, annotation order per image
  std::vector<std::string> candidates;             // raw, one per image
};
// pycocotools semantics: results' image ids must exist in the annotations; each
// evaluated image needs exactly one result and at least one reference.
CaptionInputs read_coco_caption_inputs(const fs::path& annotations, const fs::path& results);
// Every image of an annotation file with its references (candidates left empty).
CaptionInputs read_coco_caption_inputs_all(const fs::path& annotations);

// --- VQAv2 ------------------------------------------------------------------------
struct VqaQuestionText {
  int64_t question_id = 0;
  int64_t image_id = -1;  // -1 when the file has none
  std::string question;
};
// An official questions file ({"questions": [{image_id, question, question_id}]}), file order.
std::vector<VqaQuestionText> read_vqa_questions(const fs::path& questions);
// An official annotations file, file order; `texts` (question id -> text) derives a
// missing question_type. Answer types must be yes/no, number or other.
std::vector<metrics::VqaQuestion> read_vqa_annotations(const fs::path& annotations,
                                                       const std::unordered_map<int64_t, std::string>& texts);

struct VqaInputs {
  std::vector<metrics::VqaQuestion> questions;  // annotation order
  std::vector<std::string> question_texts;       // parallel; "" if not in the questions file
  std::vector<std::string> predictions;          // parallel
};
// Results must cover exactly the annotations' question ids (the official loadRes
// asserts it); a duplicated result id keeps the later one, as the official index does.
// An annotation without `question_type` gets the longest matching mscoco prefix of its
// question (vqa_mscoco_question_types), or "other".
VqaInputs read_vqa_inputs(const fs::path& questions, const fs::path& annotations, const fs::path& results);

// --- POPE -------------------------------------------------------------------------
struct PopeLabel {
  int64_t question_id = 0;
  std::string image, text, label;
  long line = 0;  // in the file, for messages
};
struct PopeAnswer {
  std::optional<int64_t> question_id;
  std::string text;
  long line = 0;
};
std::vector<PopeLabel> read_pope_labels(const fs::path& path);    // JSON lines
std::vector<PopeAnswer> read_pope_answers(const fs::path& path);  // JSON lines: "answer" or "text"

// --- MME (eval_tool format) -------------------------------------------------------
struct MmeLine {
  std::string image, question, gt, response;  // response keeps its trailing '\n'
};
// One <task>.txt: Python readlines() semantics (universal newlines), 4 tab fields.
std::vector<MmeLine> read_mme_task_file(const fs::path& path);

// One question file of the release layout (<image stem>.txt beside or apart from the
// image): "question<TAB>Yes|No" lines, read as LLaVA does (line.strip().split('\t')),
// blank lines skipped.
std::vector<std::pair<std::string, std::string>> read_mme_questions(const fs::path& txt);

// --- Writers ----------------------------------------------------------------------
// Each writes atomically (common::write_file_atomic), creating the parent folder.

// Karpathy's split file (dataset_coco.json / dataset_flickr30k.json), compact JSON and
// a newline: images[] in order with imgid = index, sentids numbered from 0 across the
// file, each sentence's tokens lowercased with . , : removed (the adapters read raw).
struct KarpathyImage {
  std::string filepath;           // COCO's folder ("val2014"); "" = the field is absent (Flickr30k)
  std::string filename, split;    // split: train, val, test, restval
  std::optional<int64_t> cocoid;  // COCO only
  std::vector<std::string> sentences;
};
void write_karpathy_captions(const fs::path& path, const std::string& dataset, const std::vector<KarpathyImage>& images);

// The official questions file (task_type Open-Ended, data_type mscoco).
void write_vqa_questions(const fs::path& path, const std::string& data_subtype, const std::vector<VqaQuestionText>& questions);
// The official annotations file; answer_confidence from each answer's confidence.
struct VqaAnnotation {
  metrics::VqaQuestion question;  // question_type, answer_type, the ten answers
  int64_t image_id = 0;
  std::string multiple_choice_answer;
};
void write_vqa_annotations(const fs::path& path, const std::string& data_subtype, const std::vector<VqaAnnotation>& annotations);

// A POPE label file: JSON lines {question_id, image, text, label}.
void write_pope_labels(const fs::path& path, const std::vector<PopeLabel>& labels);

// An MME question file of the release layout: "question<TAB>answer\n" per pair.
void write_mme_questions(const fs::path& txt, const std::vector<std::pair<std::string, std::string>>& questions);

}  // namespace lnb::tasks
