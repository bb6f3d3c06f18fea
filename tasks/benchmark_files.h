// Readers for each benchmark's own answer/label files, as `lnbench score` and the
// task adapters consume them. Every reader validates what it uses and throws
// DataError naming the file, line and field; nothing is skipped silently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
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

}  // namespace lnb::tasks
