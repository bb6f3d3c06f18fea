// See benchmark_files.h.
#include "tasks/benchmark_files.h"

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "common/file_io.h"
#include "metrics/utf8.h"
#include "tasks/answer_parsers.h"
#include "tasks/data_error.h"
#include "tasks/json_fields.h"
#include "tasks/text_util.h"

namespace lnb::tasks {
using namespace json_fields;

namespace {

// Image ids in file order and each image's references, from a COCO annotation file.
void read_annotation_refs(const fs::path& annotations, std::vector<std::string>& order,
                          std::unordered_map<std::string, std::vector<std::string>>& refs) {
  sj::parser parser;
  const sj::element ann = load_simdjson(parser, annotations);
  size_t i = 0;
  for (const sj::element im : sj_array(sj_field(ann, "images", annotations, ""), annotations, "images")) {
    const std::string id = sj_id(im, "id", annotations, "images[" + std::to_string(i++) + "].");
    if (refs.try_emplace(id).second) order.push_back(id);
  }
  i = 0;
  for (const sj::element a : sj_array(sj_field(ann, "annotations", annotations, ""), annotations, "annotations")) {
    const std::string w = "annotations[" + std::to_string(i++) + "].";
    refs[sj_id(a, "image_id", annotations, w)].push_back(sj_string(a, "caption", annotations, w));
  }
}

}  // namespace

CaptionInputs read_coco_caption_inputs_all(const fs::path& annotations) {
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<std::string>> refs;
  read_annotation_refs(annotations, order, refs);
  CaptionInputs out;
  for (const std::string& id : order) {
    if (refs[id].empty()) continue;  // an image without references is no document
    out.image_ids.push_back(id);
    out.references.push_back(std::move(refs[id]));
  }
  return out;
}

CaptionInputs read_coco_caption_inputs(const fs::path& annotations, const fs::path& results) {
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<std::string>> refs;
  read_annotation_refs(annotations, order, refs);
  sj::parser res_parser;
  const sj::element res = load_simdjson(res_parser, results);
  if (!res.is_array()) throw DataError({results.string(), 0, "", "a JSON list of {image_id, caption}", sj_kind(res), ""});
  if (sj::array(res).size() == 0)
    throw DataError({results.string(), 0, "", "at least one {image_id, caption}", "an empty list",
                     "an empty result file is not a score of 0"});
  std::unordered_map<std::string, std::string> cand;
  size_t i = 0;
  for (const sj::element r : sj::array(res)) {
    const std::string w = "[" + std::to_string(i++) + "].";
    const std::string id = sj_id(r, "image_id", results, w);
    if (!refs.count(id))
      throw DataError({results.string(), 0, w + "image_id", "an image id of the annotation file", id,
                       "results do not correspond to this annotation set"});
    if (!cand.emplace(id, sj_string(r, "caption", results, w)).second)
      throw DataError({results.string(), 0, w + "image_id", "one caption per image", "a second caption for " + id, ""});
  }
  CaptionInputs out;
  for (const std::string& id : order) {
    const auto c = cand.find(id);
    if (c == cand.end()) continue;
    std::vector<std::string>& r = refs[id];
    if (r.empty())
      throw DataError({annotations.string(), 0, "annotations", "at least one reference caption for image " + id, "none", ""});
    out.image_ids.push_back(id);
    out.references.push_back(std::move(r));
    out.candidates.push_back(std::move(c->second));
  }
  return out;
}

std::vector<VqaQuestionText> read_vqa_questions(const fs::path& questions) {
  const json qj = parse_json(questions);
  const json& qs = array_field(qj, "questions", questions);
  std::vector<VqaQuestionText> out;
  out.reserve(qs.size());
  for (size_t i = 0; i < qs.size(); ++i) {
    const std::string w = "questions[" + std::to_string(i) + "].";
    VqaQuestionText q;
    q.question_id = int_field(qs[i], "question_id", questions, 0, w);
    q.image_id = qs[i].contains("image_id") ? int_field(qs[i], "image_id", questions, 0, w) : -1;
    q.question = string_field(qs[i], "question", questions, 0, w);
    out.push_back(std::move(q));
  }
  return out;
}

std::vector<metrics::VqaQuestion> read_vqa_annotations(const fs::path& annotations,
                                                       const std::unordered_map<int64_t, std::string>& texts) {
  const json aj = parse_json(annotations);
  const json& anns = array_field(aj, "annotations", annotations);
  std::vector<metrics::VqaQuestion> out;
  out.reserve(anns.size());
  std::unordered_map<int64_t, size_t> index;
  for (size_t i = 0; i < anns.size(); ++i) {
    const std::string w = "annotations[" + std::to_string(i) + "].";
    metrics::VqaQuestion q;
    q.question_id = int_field(anns[i], "question_id", annotations, 0, w);
    q.answer_type = string_field(anns[i], "answer_type", annotations, 0, w);
    if (q.answer_type != "yes/no" && q.answer_type != "number" && q.answer_type != "other")
      throw DataError({annotations.string(), 0, w + "answer_type", "yes/no, number or other", q.answer_type, ""});
    if (anns[i].contains("question_type")) {
      q.question_type = string_field(anns[i], "question_type", annotations, 0, w);
    } else {  // derived as VQA did: the longest matching mscoco prefix, or "other"
      const auto t = texts.find(q.question_id);
      q.question_type = t == texts.end() ? "" : metrics::vqa_question_type(t->second, metrics::vqa_mscoco_question_types());
      if (q.question_type.empty()) q.question_type = "other";
    }
    const json& answers = field(anns[i], "answers", annotations, 0, w);
    if (!answers.is_array() || answers.empty())
      throw DataError({annotations.string(), 0, w + "answers", "a non-empty list", kind_of(answers), ""});
    for (size_t k = 0; k < answers.size(); ++k) {
      const std::string wa = w + "answers[" + std::to_string(k) + "].";
      metrics::VqaGtAnswer a;
      a.answer = string_field(answers[k], "answer", annotations, 0, wa);
      if (answers[k].contains("answer_confidence") && answers[k]["answer_confidence"].is_string())
        a.confidence = answers[k]["answer_confidence"].get<std::string>();
      a.answer_id = answers[k].contains("answer_id") && answers[k]["answer_id"].is_number_integer()
                        ? answers[k]["answer_id"].get<int64_t>()
                        : static_cast<int64_t>(k + 1);
      q.answers.push_back(std::move(a));
    }
    if (!index.emplace(q.question_id, out.size()).second)
      throw DataError({annotations.string(), 0, w + "question_id", "unique question ids", "a repeat of " + std::to_string(q.question_id), ""});
    out.push_back(std::move(q));
  }
  return out;
}

VqaInputs read_vqa_inputs(const fs::path& questions, const fs::path& annotations, const fs::path& results) {
  std::unordered_map<int64_t, std::string> texts;
  for (auto& q : read_vqa_questions(questions)) texts[q.question_id] = std::move(q.question);
  VqaInputs out;
  out.questions = read_vqa_annotations(annotations, texts);
  std::unordered_map<int64_t, size_t> index;
  for (size_t i = 0; i < out.questions.size(); ++i) {
    index.emplace(out.questions[i].question_id, i);
    const auto t = texts.find(out.questions[i].question_id);
    out.question_texts.push_back(t == texts.end() ? "" : t->second);
  }
  const json rj = parse_json(results);
  if (!rj.is_array()) throw DataError({results.string(), 0, "", "a JSON list of {question_id, answer}", kind_of(rj), ""});
  std::vector<std::optional<std::string>> pred(out.questions.size());
  for (size_t i = 0; i < rj.size(); ++i) {
    const std::string w = "[" + std::to_string(i) + "].";
    const int64_t id = int_field(rj[i], "question_id", results, 0, w);
    const auto it = index.find(id);
    if (it == index.end())
      throw DataError({results.string(), 0, w + "question_id", "a question id of the annotation file",
                       std::to_string(id), "results must cover exactly the annotated questions"});
    pred[it->second] = string_field(rj[i], "answer", results, 0, w);  // later duplicates win
  }
  for (size_t i = 0; i < pred.size(); ++i) {
    if (!pred[i])
      throw DataError({results.string(), 0, "question_id", "an answer for every annotated question",
                       "none for question " + std::to_string(out.questions[i].question_id),
                       "results must cover exactly the annotated questions"});
    out.predictions.push_back(*pred[i]);
  }
  return out;
}

std::vector<PopeLabel> read_pope_labels(const fs::path& path) {
  std::vector<PopeLabel> out;
  for (const auto& [line, j] : read_json_lines(path)) {
    PopeLabel l;
    l.question_id = int_field(j, "question_id", path, line, "");
    l.image = string_field(j, "image", path, line, "");
    l.text = string_field(j, "text", path, line, "");
    l.label = string_field(j, "label", path, line, "");
    l.line = line;
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<PopeAnswer> read_pope_answers(const fs::path& path) {
  std::vector<PopeAnswer> out;
  for (const auto& [line, j] : read_json_lines(path)) {
    PopeAnswer a;
    if (!j.is_object()) throw DataError({path.string(), line, "", "an object", kind_of(j), ""});
    if (j.contains("answer")) a.text = string_field(j, "answer", path, line, "");
    else if (j.contains("text")) a.text = string_field(j, "text", path, line, "");
    else throw DataError({path.string(), line, "answer", "the answer in 'answer' (POPE) or 'text' (LLaVA)", "neither", ""});
    if (j.contains("question_id") && j["question_id"].is_number_integer()) a.question_id = j["question_id"].get<int64_t>();
    a.line = line;
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<MmeLine> read_mme_task_file(const fs::path& path) {
  // Universal newlines (Python text mode): \r\n and \r become \n; lines keep it.
  const std::vector<std::string> lines = split_lines(read_all(path), /*keep_ends=*/true);
  std::vector<MmeLine> out;
  for (size_t n = 0; n < lines.size(); ++n) {
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
      const size_t tab = lines[n].find('\t', start);
      fields.push_back(lines[n].substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (fields.size() != 4)
      throw DataError({path.string(), static_cast<long>(n + 1), "", "4 tab-separated fields (image, question, GT, response)",
                       std::to_string(fields.size()) + " fields", "a response must be one line without tabs"});
    out.push_back({fields[0], fields[1], fields[2], fields[3]});
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> read_mme_questions(const fs::path& txt) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::vector<std::string> lines = split_lines(read_all(txt));
  for (size_t n = 0; n < lines.size(); ++n) {
    const std::string line = metrics::py_strip(lines[n]);
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos)
      throw DataError({txt.string(), static_cast<long>(n + 1), "", "'question<TAB>Yes|No'", "'" + line.substr(0, 80) + "'", ""});
    std::string gt = line.substr(tab + 1);
    if (parse_yes_no_label(gt) == metrics::YesNo::kUnparseable)
      throw DataError({txt.string(), static_cast<long>(n + 1), "answer", "Yes or No", "'" + gt + "'", ""});
    out.emplace_back(line.substr(0, tab), std::move(gt));
  }
  return out;
}

// --- Writers ------------------------------------------------------------------------

namespace {
using nlohmann::ordered_json;

void write_compact(const fs::path& path, const ordered_json& j) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  common::write_file_atomic(path, j.dump() + "\n");
}

void write_text(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  common::write_file_atomic(path, text);
}
}  // namespace

void write_karpathy_captions(const fs::path& path, const std::string& dataset, const std::vector<KarpathyImage>& images) {
  ordered_json out = ordered_json::array();
  int64_t sentid = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    const KarpathyImage& im = images[i];
    ordered_json img = ordered_json::object();
    if (!im.filepath.empty()) img["filepath"] = im.filepath;
    img["filename"] = im.filename;
    ordered_json sents = ordered_json::array(), ids = ordered_json::array();
    for (const std::string& raw : im.sentences) {
      std::string lowered = raw;
      for (char& ch : lowered)
        ch = (ch == '.' || ch == ',' || ch == ':') ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      ordered_json tokens = ordered_json::array();
      std::istringstream ts(lowered);
      for (std::string w; ts >> w;) tokens.push_back(w);
      sents.push_back({{"tokens", tokens}, {"raw", raw}, {"imgid", i}, {"sentid", sentid}});
      ids.push_back(sentid++);
    }
    img["sentids"] = ids;
    img["imgid"] = i;
    img["sentences"] = sents;
    img["split"] = im.split;
    if (im.cocoid) img["cocoid"] = *im.cocoid;
    out.push_back(std::move(img));
  }
  write_compact(path, {{"images", out}, {"dataset", dataset}});
}

void write_vqa_questions(const fs::path& path, const std::string& data_subtype, const std::vector<VqaQuestionText>& questions) {
  ordered_json qs = ordered_json::array();
  for (const VqaQuestionText& q : questions)
    qs.push_back({{"image_id", q.image_id}, {"question", q.question}, {"question_id", q.question_id}});
  write_compact(path, {{"info", ordered_json::object()}, {"task_type", "Open-Ended"}, {"data_type", "mscoco"},
                       {"license", ordered_json::object()}, {"data_subtype", data_subtype}, {"questions", qs}});
}

void write_vqa_annotations(const fs::path& path, const std::string& data_subtype, const std::vector<VqaAnnotation>& annotations) {
  ordered_json anns = ordered_json::array();
  for (const VqaAnnotation& a : annotations) {
    ordered_json answers = ordered_json::array();
    for (const metrics::VqaGtAnswer& g : a.question.answers)
      answers.push_back({{"answer", g.answer}, {"answer_confidence", g.confidence}, {"answer_id", g.answer_id}});
    anns.push_back({{"question_type", a.question.question_type}, {"multiple_choice_answer", a.multiple_choice_answer},
                    {"answers", answers}, {"image_id", a.image_id}, {"answer_type", a.question.answer_type},
                    {"question_id", a.question.question_id}});
  }
  write_compact(path, {{"info", ordered_json::object()}, {"license", ordered_json::object()}, {"data_subtype", data_subtype},
                       {"data_type", "mscoco"}, {"annotations", anns}});
}

void write_pope_labels(const fs::path& path, const std::vector<PopeLabel>& labels) {
  std::string lines;
  for (const PopeLabel& l : labels)
    lines += ordered_json({{"question_id", l.question_id}, {"image", l.image}, {"text", l.text}, {"label", l.label}}).dump() + "\n";
  write_text(path, lines);
}

void write_mme_questions(const fs::path& txt, const std::vector<std::pair<std::string, std::string>>& questions) {
  std::string text;
  for (const auto& [q, a] : questions) {
    if (q.find_first_of("\t\r\n") != std::string::npos)
      throw std::invalid_argument(txt.string() + ": an MME question cannot hold a tab or a line break, got '" + q.substr(0, 80) + "'");
    if (a != "Yes" && a != "No")
      throw std::invalid_argument(txt.string() + ": an MME answer must be Yes or No, got '" + a.substr(0, 80) + "'");
    text += q + "\t" + a + "\n";
  }
  write_text(txt, text);
}

}  // namespace lnb::tasks
