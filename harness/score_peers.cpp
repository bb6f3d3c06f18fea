// See score_peers.h.
#include "harness/score_peers.h"

#include <filesystem>
#include <iostream>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/json_io.h"
#include "harness/cli.h"
#include "harness/score_output.h"
#include "metrics/mme.h"
#include "metrics/vqa.h"
#include "tasks/data_error.h"
#include "tasks/json_fields.h"
#include "tasks/peer_answers.h"
#include "tasks/scoring.h"

namespace lnb::harness {
namespace {

using nlohmann::ordered_json;
using namespace score_output;  // NOLINT: fmt, opt, opt_str, print_json
using PeerRecordRef = const tasks::PeerRecord*;

// A doc field as text: lmms-eval's datasets hold ids as strings or integers.
std::string doc_text(const PeerRecordRef& r, const char* name, const std::string& file) {
  const auto it = r->doc.find(name);
  if (it == r->doc.end())
    throw tasks::DataError({file, r->line, std::string("doc.") + name, "a field of the logged dataset row", "none",
                            "is this the log of the right task?"});
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  throw tasks::DataError({file, r->line, std::string("doc.") + name, "a string or an integer", common::json_excerpt(*it), ""});
}

template <class Record>
struct Deduped {
  std::vector<const Record*> kept;
  int64_t n_duplicates = 0;
  std::string example;
};

// First record per key, file order; later ones with the same key counted and named.
template <class Record, class KeyFn>
Deduped<Record> dedupe(const std::vector<Record>& records, KeyFn key) {
  Deduped<Record> d;
  std::unordered_map<std::string, long> seen;
  for (const Record& r : records) {
    const std::string k = key(&r);
    const auto [at, fresh] = seen.emplace(k, r.line);
    if (fresh) {
      d.kept.push_back(&r);
    } else if (d.n_duplicates++ == 0) {
      d.example = "line " + std::to_string(r.line) + " repeats " + k + " (first on line " + std::to_string(at->second) + ")";
    }
  }
  return d;
}

template <class Record>
ordered_json duplicates_json(const Deduped<Record>& d) {
  return {{"count", d.n_duplicates}, {"example", d.n_duplicates ? ordered_json(d.example) : ordered_json(nullptr)},
          {"treatment", "lnbench keeps the first record per key; the peer's own numbers count every record"}};
}

ordered_json lmms_pope_json(const tasks::LmmsEvalPope& p) {
  return {{"accuracy", p.accuracy}, {"precision", p.precision}, {"recall", p.recall}, {"f1", p.f1},
          {"yes_ratio", p.yes_ratio}, {"n", p.n}};
}

// One MME answer of a peer's file, as the eval_tool route needs it.
struct MmeAnswer {
  long line;
  std::string task, image, gt, answer;
};
struct MmePairs {
  tasks::MmeScored scored;
  std::vector<std::string> responses;  // items' order, as the eval_tool file would hold them
};

// The eval_tool pairs an image's two questions as consecutive lines of its subtask file:
// the answers grouped by (subtask, image) in first-seen order, subtasks in the official
// order, then scored through tasks/scoring.h. `image_field` names the column for messages.
MmePairs score_mme_pairs(const std::vector<MmeAnswer>& answers, const std::string& file, const std::string& image_field,
                         const std::string& task_field) {
  std::map<std::string, std::vector<std::string>> image_order;  // subtask -> images
  std::map<std::pair<std::string, std::string>, std::vector<const MmeAnswer*>> by_image;
  for (const MmeAnswer& a : answers) {
    auto& v = by_image[{a.task, a.image}];
    if (v.empty()) image_order[a.task].push_back(a.image);
    v.push_back(&a);
  }
  std::vector<tasks::MmeItem> items;
  MmePairs out;
  std::vector<std::string> all_tasks = metrics::mme_perception_tasks();
  for (const auto& t : metrics::mme_cognition_tasks()) all_tasks.push_back(t);
  for (const std::string& task : all_tasks) {
    for (const std::string& image : image_order[task]) {
      const auto& v = by_image.at({task, image});
      if (v.size() != 2)
        throw tasks::DataError({file, v[0]->line, image_field, "2 questions per image (MME pairs them)",
                                std::to_string(v.size()) + " for " + image, ""});
      for (size_t k = 0; k < 2; ++k) {
        items.push_back({task, task + "/" + image + "#" + std::to_string(k), v[k]->gt, file, v[k]->line});
        out.responses.push_back(tasks::mme_response_text(v[k]->answer));
      }
    }
    image_order.erase(task);
  }
  if (!image_order.empty()) throw tasks::DataError({file, 0, task_field, "an MME subtask", image_order.begin()->first, ""});
  const std::vector<std::string_view> views(out.responses.begin(), out.responses.end());
  out.scored = tasks::score_mme(items, views);
  return out;
}

}  // namespace

int score_pope_from_lmms_eval(const std::string& file, bool skip_bad, bool as_json) {
  const std::vector<tasks::PeerRecord> records = tasks::read_lmms_eval_samples(file);
  // Key: split/question_id. A pooled `pope` log has every split; `pope_random` etc. one.
  const auto d = dedupe(records, [&](PeerRecordRef r) {
    return doc_text(r, "category", file) + "/" + doc_text(r, "question_id", file);
  });
  std::vector<tasks::PopeItem> items;
  std::vector<std::string> texts;
  std::vector<tasks::Skip> skipped;
  for (PeerRecordRef r : d.kept) {
    const std::string split = doc_text(r, "category", file), label = doc_text(r, "answer", file);
    try {
      items.push_back({split, split + "/" + doc_text(r, "question_id", file), tasks::pope_label(label, file, r->line)});
    } catch (const tasks::DataError& e) {
      if (!skip_bad) throw;
      skipped.push_back({file, r->line, "doc.answer " + e.info().got + " is neither yes nor no"});
      continue;
    }
    texts.push_back(tasks::pope_answer_text(r->response));  // as LLaVA's answer file would hold it
  }
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  const tasks::PopeScored scored = tasks::score_pope(items, views);
  // The peer's numbers over every record it logged, as its aggregation saw them.
  std::vector<std::string> labels, responses;
  for (const tasks::PeerRecord& r : records) {
    labels.push_back(doc_text(&r, "answer", file));
    responses.push_back(r.response);
  }
  const tasks::LmmsEvalPope peer = tasks::lmms_eval_pope(labels, responses);
  int64_t not_exact = 0;
  for (const auto& smp : scored.samples) not_exact += smp.extra["parsed_exact"] == "unparseable";
  std::vector<std::string> why;
  if (scored.splits.size() > 1)
    why.push_back("lmms-eval pools the " + std::to_string(scored.splits.size()) +
                  " splits into one set; lnbench scores each split and reports the mean F1 (LLaVA-1.5's number)");
  why.push_back("lmms-eval's yes_ratio is the labels' share of yes (" + fmt(peer.yes_ratio) +
                "); lnbench's is the predictions' share, per split");
  if (not_exact > 0)
    why.push_back(std::to_string(not_exact) + " answers are not exactly yes/no: lmms-eval counts them wrong and "
                  "leaves them out of TP/FP/FN; lnbench's headline reads them with POPE's reference parser "
                  "(its exact-match column matches lmms-eval's rule)");
  if (d.n_duplicates > 0) why.push_back(std::to_string(d.n_duplicates) + " duplicated records: counted by lmms-eval, left out by lnbench");
  if (!skipped.empty()) why.push_back(std::to_string(skipped.size()) + " records with a bad label skipped by lnbench");
  if (as_json) {
    print_json({{"schema", "lnbench.score.peer/1"}, {"task", "pope"}, {"from", "lmms-eval"}, {"file", file},
                {"records", records.size()}, {"scored", items.size()}, {"duplicates", duplicates_json(d)},
                {"skipped", skipped.size()},
                {"mapping", "doc.category = split, doc.question_id = question id, doc.answer = label, filtered_resps[0] "
                            "= the answer (.strip()ped for lnbench, as LLaVA writes it)"},
                {"lnbench", {{"values", tasks::pope_values_json(scored)}, {"splits", tasks::pope_splits_json(scored)},
                             {"unparseable_rate", scored.unparseable_rate}}},
                {"peer", {{"tool", "lmms-eval 0.7.x tasks/pope/utils.py (pooled, exact match)"}, {"values", lmms_pope_json(peer)}}},
                {"differences", why}});
    return kExitOk;
  }
  std::cout << "POPE from lmms-eval " << file << ": " << records.size() << " records, " << items.size() << " scored\n";
  std::cout << "  split        lnbench F1 (reference | exact)   accuracy (reference | exact)\n";
  for (const auto& sp : scored.splits)
    std::cout << "  " << sp.split << "  " << opt_str(sp.reference.f1) << " | " << opt_str(sp.exact.f1) << "   "
              << opt_str(sp.reference.accuracy) << " | " << opt_str(sp.exact.accuracy) << "\n";
  std::cout << "  lnbench F1 mean " << opt_str(scored.f1_mean) << "\n"
            << "  lmms-eval (pooled)  f1 " << fmt(peer.f1) << "  accuracy " << fmt(peer.accuracy) << "  precision "
            << fmt(peer.precision) << "  recall " << fmt(peer.recall) << "  yes_ratio " << fmt(peer.yes_ratio) << "\n";
  for (const auto& w : why) std::cout << "  why: " << w << "\n";
  return kExitOk;
}

int score_mme_from_lmms_eval(const std::string& file, bool as_json) {
  const std::vector<tasks::PeerRecord> records = tasks::read_lmms_eval_samples(file);
  const auto d = dedupe(records, [&](PeerRecordRef r) {
    return doc_text(r, "question_id", file) + " / " + doc_text(r, "question", file);
  });
  std::vector<MmeAnswer> kept;
  for (PeerRecordRef r : d.kept)
    kept.push_back({r->line, doc_text(r, "category", file), doc_text(r, "question_id", file), doc_text(r, "answer", file),
                    r->response});
  const MmePairs pairs = score_mme_pairs(kept, file, "doc.question_id", "doc.category");
  const tasks::MmeScored& scored = pairs.scored;
  const std::vector<std::string>& responses = pairs.responses;
  std::vector<std::string> cats, images, labels, resps;
  for (const tasks::PeerRecord& r : records) {
    cats.push_back(doc_text(&r, "category", file));
    images.push_back(doc_text(&r, "question_id", file));
    labels.push_back(doc_text(&r, "answer", file));
    resps.push_back(r.response);
  }
  tasks::LmmsEvalMme peer;
  try {
    peer = tasks::lmms_eval_mme(cats, images, labels, resps);
  } catch (const tasks::DataError& e) {
    tasks::DataErrorInfo info = e.info();
    info.file = file;
    throw tasks::DataError(info);
  }
  int64_t parse_differs = 0;
  std::string parse_example;
  for (size_t i = 0; i < responses.size(); ++i) {
    const std::string ours = scored.samples[i].parsed, theirs = tasks::lmms_eval_mme_parse(responses[i]);
    if (ours != theirs && parse_differs++ == 0)
      parse_example = common::json_excerpt(nlohmann::json(responses[i])) + ": eval_tool " + ours + ", lmms-eval " + theirs;
  }
  std::vector<std::string> why;
  if (parse_differs > 0)
    why.push_back(std::to_string(parse_differs) + " responses parse differently: lmms-eval strips and drops '.' "
                  "before the yes/no test and reads a lone y/n (e.g. " + parse_example + ")");
  if (d.n_duplicates > 0) why.push_back(std::to_string(d.n_duplicates) + " duplicated records: counted by lmms-eval, left out by lnbench");
  ordered_json ours = ordered_json::object(), theirs = ordered_json::object();
  for (const auto& t : scored.scores.tasks) ours[t.task] = t.score;
  for (const auto& [c, v] : peer.categories) theirs[c] = v;
  if (as_json) {
    print_json({{"schema", "lnbench.score.peer/1"}, {"task", "mme"}, {"from", "lmms-eval"}, {"file", file},
                {"records", records.size()}, {"scored", responses.size()}, {"duplicates", duplicates_json(d)},
                {"mapping", "doc.category = subtask, doc.question_id = image, doc.answer = GT, filtered_resps[0] = "
                            "the response (.strip()ped, one line, as LLaVA writes the eval_tool file)"},
                {"lnbench", {{"perception", scored.scores.perception}, {"cognition", scored.scores.cognition},
                             {"tasks", ours}, {"unparseable_rate", scored.scores.unparseable_rate}}},
                {"peer", {{"tool", "lmms-eval 0.7.x tasks/mme/utils.py"}, {"perception", peer.perception},
                          {"cognition", peer.cognition}, {"tasks", theirs}}},
                {"differences", why}});
    return kExitOk;
  }
  std::cout << "MME from lmms-eval " << file << ": " << records.size() << " records, " << responses.size() << " scored\n"
            << "  perception  lnbench (eval_tool) " << fmt(scored.scores.perception, 2) << "  lmms-eval "
            << fmt(peer.perception, 2) << "\n"
            << "  cognition   lnbench (eval_tool) " << fmt(scored.scores.cognition, 2) << "  lmms-eval "
            << fmt(peer.cognition, 2) << "\n";
  for (const auto& w : why) std::cout << "  why: " << w << "\n";
  return kExitOk;
}

int score_pope_from_vlmevalkit(const std::string& file, bool skip_bad, bool as_json) {
  const std::vector<tasks::PeerRow> rows = tasks::read_vlmevalkit_predictions(file);
  const auto d = dedupe(rows, [&](const tasks::PeerRow* r) { return "index " + tasks::peer_col(*r, "index", file); });
  std::vector<tasks::PopeItem> items;
  std::vector<std::string> texts;
  std::vector<tasks::Skip> skipped;
  for (const tasks::PeerRow* r : d.kept) {
    const std::string& cats = tasks::peer_col(*r, "category", file);
    const std::string& label = tasks::peer_col(*r, "answer", file);
    metrics::YesNo gt;
    try {
      gt = tasks::pope_label(label, file, r->line);
    } catch (const tasks::DataError& e) {
      if (!skip_bad) throw;
      skipped.push_back({file, r->line, "answer " + e.info().got + " is neither yes nor no"});
      continue;
    }
    // A row listed under several categories ("random,popular") is a question of each split.
    for (size_t start = 0;;) {
      const size_t comma = cats.find(',', start);
      const std::string split = cats.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      items.push_back({split, split + "/" + tasks::peer_col(*r, "index", file), gt});
      texts.push_back(tasks::pope_answer_text(tasks::peer_col(*r, "prediction", file)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  const tasks::PopeScored scored = tasks::score_pope(items, views);
  std::vector<std::string> answers, extracted, categories;
  int64_t unknown = 0;
  for (const tasks::PeerRow& r : rows) {
    answers.push_back(tasks::peer_col(r, "answer", file));
    extracted.push_back(tasks::vlmevalkit_yorn(tasks::peer_col(r, "prediction", file)));
    unknown += extracted.back() == "Unknown";
    categories.push_back(tasks::peer_col(r, "category", file));
  }
  const std::vector<tasks::VlmevalkitPopeSplit> peer = tasks::vlmevalkit_pope(answers, extracted, categories);
  ordered_json peer_json = ordered_json::object();
  for (const auto& p : peer)
    peer_json[p.split] = {{"Overall", p.overall}, {"acc", p.acc}, {"precision", p.precision}, {"recall", p.recall}};
  std::vector<std::string> why;
  why.push_back("VLMEvalKit reports x100 and its 'Overall' is F1; lnbench reports 0-1 and its headline is the mean F1 over splits");
  if (unknown > 0)
    why.push_back(std::to_string(unknown) + " predictions hold both or neither of the words yes/no: VLMEvalKit's "
                  "YOrN_Extraction says Unknown (wrong, and a 'no' for recall) unless an LLM judge resolves it; POPE's "
                  "reference parser reads each as yes or no");
  if (d.n_duplicates > 0) why.push_back(std::to_string(d.n_duplicates) + " duplicated rows: counted by VLMEvalKit, left out by lnbench");
  if (as_json) {
    print_json({{"schema", "lnbench.score.peer/1"}, {"task", "pope"}, {"from", "vlmevalkit"}, {"file", file},
                {"records", rows.size()}, {"scored", items.size()}, {"duplicates", duplicates_json(d)},
                {"skipped", skipped.size()},
                {"mapping", "category = split (a comma list: one question per split), index = question id, answer = "
                            "label, prediction = the answer (.strip()ped for lnbench)"},
                {"lnbench", {{"values", tasks::pope_values_json(scored)}, {"splits", tasks::pope_splits_json(scored)},
                             {"unparseable_rate", scored.unparseable_rate}}},
                {"peer", {{"tool", "VLMEvalKit utils/yorn.py POPE_rating, YOrN_Extraction, judge exact_matching"},
                          {"values", peer_json}}},
                {"differences", why}});
    return kExitOk;
  }
  std::cout << "POPE from VLMEvalKit " << file << ": " << rows.size() << " rows, " << items.size() << " scored\n";
  for (const auto& sp : scored.splits)
    std::cout << "  " << sp.split << "  lnbench F1 " << opt_str(sp.reference.f1) << " (exact " << opt_str(sp.exact.f1) << ")\n";
  std::cout << "  lnbench F1 mean " << opt_str(scored.f1_mean) << "\n";
  for (const auto& p : peer)
    std::cout << "  VLMEvalKit " << p.split << "  F1 x100 " << fmt(p.overall, 2) << "  acc " << fmt(p.acc, 2) << "\n";
  for (const auto& w : why) std::cout << "  why: " << w << "\n";
  return kExitOk;
}

int score_mme_from_vlmevalkit(const std::string& file, bool as_json) {
  const std::vector<tasks::PeerRow> rows = tasks::read_vlmevalkit_predictions(file);
  const auto d = dedupe(rows, [&](const tasks::PeerRow* r) { return "index " + tasks::peer_col(*r, "index", file); });
  std::vector<MmeAnswer> kept;
  for (const tasks::PeerRow* r : d.kept)
    kept.push_back({r->line, tasks::peer_col(*r, "category", file), tasks::peer_col(*r, "image_path", file),
                    tasks::peer_col(*r, "answer", file), tasks::peer_col(*r, "prediction", file)});
  const MmePairs pairs = score_mme_pairs(kept, file, "image_path", "category");
  const tasks::MmeScored& scored = pairs.scored;
  const std::vector<std::string>& responses = pairs.responses;
  std::vector<std::string> cats, images, answers, extracted;
  for (const tasks::PeerRow& r : rows) {
    cats.push_back(tasks::peer_col(r, "category", file));
    images.push_back(tasks::peer_col(r, "image_path", file));
    answers.push_back(tasks::peer_col(r, "answer", file));
    extracted.push_back(tasks::vlmevalkit_yorn(tasks::peer_col(r, "prediction", file)));
  }
  tasks::VlmevalkitMme peer;
  try {
    peer = tasks::vlmevalkit_mme(cats, images, answers, extracted);
  } catch (const tasks::DataError& e) {
    tasks::DataErrorInfo info = e.info();
    info.file = file;
    throw tasks::DataError(info);
  }
  int64_t parse_differs = 0;
  std::string parse_example;
  for (size_t i = 0; i < responses.size(); ++i) {
    std::string theirs = tasks::vlmevalkit_yorn(responses[i]);
    theirs = theirs == "Yes" ? "yes" : theirs == "No" ? "no" : "other";
    if (theirs != scored.samples[i].parsed && parse_differs++ == 0)
      parse_example = common::json_excerpt(nlohmann::json(responses[i])) + ": eval_tool " + scored.samples[i].parsed +
                      ", VLMEvalKit " + theirs;
  }
  std::vector<std::string> why;
  if (parse_differs > 0)
    why.push_back(std::to_string(parse_differs) + " predictions parse differently: VLMEvalKit looks for the words yes/no "
                  "anywhere (both or neither: Unknown), the eval_tool in the first 4 characters (e.g. " + parse_example + ")");
  if (d.n_duplicates > 0) why.push_back(std::to_string(d.n_duplicates) + " duplicated rows: counted by VLMEvalKit, left out by lnbench");
  if (!peer.perception || !peer.reasoning)
    why.push_back("VLMEvalKit's MME_rating needs all 14 categories (a KeyError otherwise): its totals are null");
  ordered_json ours = ordered_json::object(), theirs = ordered_json::object();
  for (const auto& t : scored.scores.tasks) ours[t.task] = t.score;
  for (const auto& [c, v] : peer.categories) theirs[c] = v;
  auto o = [](const std::optional<double>& v) { return v ? ordered_json(*v) : ordered_json(nullptr); };
  if (as_json) {
    print_json({{"schema", "lnbench.score.peer/1"}, {"task", "mme"}, {"from", "vlmevalkit"}, {"file", file},
                {"records", rows.size()}, {"scored", responses.size()}, {"duplicates", duplicates_json(d)},
                {"mapping", "category = subtask, image_path = image, answer = GT, prediction = the response (.strip()ped, "
                            "one line, as LLaVA writes the eval_tool file)"},
                {"lnbench", {{"perception", scored.scores.perception}, {"cognition", scored.scores.cognition},
                             {"tasks", ours}, {"unparseable_rate", scored.scores.unparseable_rate}}},
                {"peer", {{"tool", "VLMEvalKit utils/yorn.py MME_rating, YOrN_Extraction, judge exact_matching"},
                          {"perception", o(peer.perception)}, {"reasoning", o(peer.reasoning)}, {"tasks", theirs}}},
                {"differences", why}});
    return kExitOk;
  }
  std::cout << "MME from VLMEvalKit " << file << ": " << rows.size() << " rows, " << responses.size() << " scored\n"
            << "  perception  lnbench (eval_tool) " << fmt(scored.scores.perception, 2) << "  VLMEvalKit "
            << (peer.perception ? fmt(*peer.perception, 2) : "n/a") << "\n"
            << "  cognition   lnbench (eval_tool) " << fmt(scored.scores.cognition, 2) << "  VLMEvalKit (reasoning) "
            << (peer.reasoning ? fmt(*peer.reasoning, 2) : "n/a") << "\n";
  for (const auto& w : why) std::cout << "  why: " << w << "\n";
  return kExitOk;
}

int score_vqa_from_lmms_eval(const std::string& file, bool as_json) {
  const std::vector<tasks::PeerRecord> records = tasks::read_lmms_eval_samples(file);
  const auto d = dedupe(records, [&](PeerRecordRef r) { return "question_id " + doc_text(r, "question_id", file); });
  // The logged doc is the annotation: question_type, answer_type and the ten answers.
  auto question_of = [&](PeerRecordRef r) {
    metrics::VqaQuestion q;
    const std::string id = doc_text(r, "question_id", file);
    try {
      q.question_id = std::stoll(id);
    } catch (const std::exception&) {
      throw tasks::DataError({file, r->line, "doc.question_id", "an integer VQAv2 question id", id, ""});
    }
    q.question_type = doc_text(r, "question_type", file);
    q.answer_type = doc_text(r, "answer_type", file);
    const auto it = r->doc.find("answers");
    if (it == r->doc.end() || !it->is_array() || it->empty())
      throw tasks::DataError({file, r->line, "doc.answers", "the ten annotator answers (a list)",
                              it == r->doc.end() ? "none" : common::json_excerpt(*it),
                              "lnbench scores vqav2_val logs; test-split logs have no answers"});
    for (const auto& a : *it) {
      if (!a.is_object() || !a.contains("answer") || !a["answer"].is_string())
        throw tasks::DataError({file, r->line, "doc.answers[].answer", "a string", common::json_excerpt(a), ""});
      metrics::VqaGtAnswer g;
      g.answer = a["answer"].get<std::string>();
      if (a.contains("answer_confidence") && a["answer_confidence"].is_string()) g.confidence = a["answer_confidence"];
      if (a.contains("answer_id") && a["answer_id"].is_number_integer()) g.answer_id = a["answer_id"].get<int64_t>();
      q.answers.push_back(std::move(g));
    }
    return q;
  };
  std::vector<metrics::VqaQuestion> gt;  // one per record, parsed once; kept records point into it
  gt.reserve(records.size());
  for (const tasks::PeerRecord& r : records) gt.push_back(question_of(&r));
  std::vector<tasks::VqaItem> items;
  std::vector<std::string_view> answers;
  for (size_t i = 0; i < d.kept.size(); ++i) {
    const metrics::VqaQuestion& q = gt[static_cast<size_t>(d.kept[i] - records.data())];
    items.push_back({std::to_string(q.question_id), static_cast<int64_t>(i), &q});
    answers.push_back(d.kept[i]->response);
  }
  const tasks::VqaScored scored =
      tasks::score_vqa(items, answers, {metrics::VqaNormalization::kOfficial, metrics::VqaNormalization::kLlava});
  // The peer: every record, its own per-document accuracy, then the mean.
  std::vector<double> peer_acc;
  int64_t differs = 0;
  std::string example;
  for (size_t i = 0; i < records.size(); ++i) {
    const tasks::PeerRecord& r = records[i];
    const metrics::VqaQuestion& q = gt[i];
    std::vector<std::string> a, c;
    std::vector<int64_t> ids;
    for (const auto& g : q.answers) {
      a.push_back(g.answer);
      c.push_back(g.confidence);
      ids.push_back(g.answer_id);
    }
    peer_acc.push_back(tasks::lmms_eval_vqa_accuracy(a, c, ids, r.response));
    const double ours = metrics::vqa_question_accuracy(q, r.response, metrics::VqaNormalization::kOfficial);
    if (ours != peer_acc.back() && differs++ == 0)
      example = "question " + std::to_string(q.question_id) + " answered " + common::json_excerpt(nlohmann::json(r.response)) +
                ": official " + fmt(ours) + ", lmms-eval " + fmt(peer_acc.back());
  }
  const double peer = tasks::lmms_eval_mean(peer_acc);
  const metrics::VqaScores& off = scored.scores[0];
  const metrics::VqaScores& llava = scored.scores[1];
  std::vector<std::string> why;
  why.push_back("lmms-eval reports 0-1 (exact_match), lnbench x100 like the official script");
  if (differs > 0)
    why.push_back(std::to_string(differs) + " questions score differently: lmms-eval always runs EvalAI's punctuation and "
                  "digit/article passes over prediction and answers (the official script only when the ten answers "
                  "disagree) and never lowercases first (e.g. " + example + ")");
  if (d.n_duplicates > 0) why.push_back(std::to_string(d.n_duplicates) + " duplicated records: counted by lmms-eval, left out by lnbench");
  if (as_json) {
    print_json({{"schema", "lnbench.score.peer/1"}, {"task", "vqav2"}, {"from", "lmms-eval"}, {"file", file},
                {"records", records.size()}, {"scored", items.size()}, {"duplicates", duplicates_json(d)},
                {"mapping", "doc.question_id = question id, doc.answers / answer_type / question_type = the annotation, "
                            "filtered_resps[0] = the answer"},
                {"lnbench", {{"accuracy", off.overall_unrounded}, {"accuracy_official", off.overall},
                             {"accuracy_llava", llava.overall_unrounded}, {"perAnswerType", off.per_answer_type}}},
                {"peer", {{"tool", "lmms-eval 0.7.x tasks/vqav2/utils.py vqav2_process_results, mean"}, {"exact_match", peer}}},
                {"differences", why}});
    return kExitOk;
  }
  std::cout << "VQAv2 from lmms-eval " << file << ": " << records.size() << " records, " << items.size() << " scored\n"
            << "  lnbench official " << fmt(off.overall_unrounded, 4) << "  (llava/EvalAI " << fmt(llava.overall_unrounded, 4)
            << ")\n  lmms-eval exact_match " << fmt(peer, 6) << "  (x100: " << fmt(100 * peer, 4) << ")\n";
  for (const auto& w : why) std::cout << "  why: " << w << "\n";
  return kExitOk;
}

// lmms-eval's caption tasks log, per record, the dict their aggregation reads:
// "<coco|flickr>_<metric>": {"answer": [references], "pred": caption, "image_id": int}.
int score_caption_from_lmms_eval(const std::string& file, bool as_json) {
  const std::vector<tasks::PeerRecord> records = tasks::read_lmms_eval_samples(file);
  struct Row {
    long line;
    std::string image_id, pred;
    std::vector<std::string> refs;
  };
  std::vector<Row> rows;
  const std::filesystem::path path(file);
  for (const tasks::PeerRecord& rec : records) {  // the metric dicts beside each record's doc
    const long line = rec.line;
    const nlohmann::json* d = nullptr;
    for (const char* key : {"coco_CIDEr", "flickr_CIDEr", "coco_Bleu_4", "flickr_Bleu_4"})
      if (rec.fields.contains(key)) d = &rec.fields[key];
    if (d == nullptr || !d->is_object())
      throw tasks::DataError({file, line, "coco_CIDEr", "the caption metric dict lmms-eval logs (coco_* or flickr_*)",
                              "none", "is this the log of a coco_cap or flickr30k task?"});
    Row r{line, "", "", {}};
    const auto& id = tasks::json_fields::field(*d, "image_id", path, line, "coco_CIDEr");
    if (!id.is_number_integer())
      throw tasks::DataError({file, line, "coco_CIDEr.image_id", "an integer", common::json_excerpt(id), ""});
    r.image_id = std::to_string(id.get<int64_t>());
    r.pred = tasks::json_fields::string_field(*d, "pred", path, line, "coco_CIDEr");
    const auto& refs = tasks::json_fields::field(*d, "answer", path, line, "coco_CIDEr");
    if (!refs.is_array() || refs.empty())
      throw tasks::DataError({file, line, "coco_CIDEr.answer", "the references (a non-empty list)", common::json_excerpt(refs), ""});
    for (const auto& ref : refs) {
      if (!ref.is_string())
        throw tasks::DataError({file, line, "coco_CIDEr.answer[]", "a caption string", common::json_excerpt(ref), ""});
      r.refs.push_back(ref.get<std::string>());
    }
    rows.push_back(std::move(r));
  }
  const auto d = dedupe(rows, [](const Row* r) { return "image_id " + r->image_id; });
  // lnbench: the first record per image, its caption as the results file holds it.
  std::vector<std::string> ids, cands;
  std::vector<std::vector<std::string>> refs;
  for (const Row* r : d.kept) {
    ids.push_back(r->image_id);
    refs.push_back(r->refs);
    cands.push_back(tasks::caption_text(r->pred));
  }
  const metrics::CaptionScores ours = tasks::score_captions(ids, refs, cands).scores;
  // The peer: COCO's index over every record (images in first-seen order, an image's
  // references pooled over its records), one prediction per image or Bleu's assert.
  std::vector<std::string> p_ids, p_cands;
  std::vector<std::vector<std::string>> p_refs;
  std::unordered_map<std::string, size_t> at;
  std::vector<int> n_preds;
  for (const Row& r : rows) {
    auto [it, fresh] = at.emplace(r.image_id, p_ids.size());
    if (fresh) {
      p_ids.push_back(r.image_id);
      p_refs.emplace_back();
      p_cands.push_back(r.pred);
      n_preds.push_back(0);
    }
    for (const auto& ref : r.refs) p_refs[it->second].push_back(ref);
    ++n_preds[it->second];
  }
  const bool peer_runs = d.n_duplicates == 0;
  ordered_json peer = nullptr;
  if (peer_runs) {
    const metrics::CaptionScores p = tasks::score_captions(p_ids, p_refs, p_cands).scores;
    peer = {{"Bleu_1", p.bleu[0]}, {"Bleu_2", p.bleu[1]}, {"Bleu_3", p.bleu[2]}, {"Bleu_4", p.bleu[3]},
            {"ROUGE_L", p.rouge_l}, {"CIDEr", p.cider}};
  }
  std::vector<std::string> why;
  why.push_back("both score with pycocoevalcap's pipeline (lnbench natively, bit for bit); lnbench does not compute "
                "METEOR (Java), which lmms-eval also reports");
  if (!peer_runs)
    why.push_back(std::to_string(d.n_duplicates) + " records repeat an image (" + d.example +
                  "): lmms-eval pools their references and gives pycocoevalcap two captions for one image, whose BLEU "
                  "asserts one; its numbers are null here, lnbench keeps the first record");
  if (as_json) {
    print_json({{"schema", "lnbench.score.peer/1"}, {"task", "caption"}, {"from", "lmms-eval"}, {"file", file},
                {"records", records.size()}, {"scored", ids.size()}, {"duplicates", duplicates_json(d)},
                {"mapping", "the logged coco_*/flickr_* dict: image_id = image, answer = references, pred = caption "
                            "(.strip()ped for lnbench)"},
                {"lnbench", {{"Bleu_1", ours.bleu[0]}, {"Bleu_2", ours.bleu[1]}, {"Bleu_3", ours.bleu[2]},
                             {"Bleu_4", ours.bleu[3]}, {"ROUGE_L", ours.rouge_l}, {"CIDEr", ours.cider}}},
                {"peer", {{"tool", "lmms-eval 0.7.x tasks/coco_cap, flickr30k utils.py aggregation (pycocoevalcap)"},
                          {"values", peer}}},
                {"differences", why}});
    return kExitOk;
  }
  std::cout << "captions from lmms-eval " << file << ": " << records.size() << " records, " << ids.size() << " images\n"
            << "  lnbench    CIDEr " << fmt(ours.cider, 6) << "  Bleu_4 " << fmt(ours.bleu[3], 6) << "  ROUGE_L "
            << fmt(ours.rouge_l, 6) << "\n";
  if (peer_runs)
    std::cout << "  lmms-eval  CIDEr " << fmt(peer["CIDEr"].get<double>(), 6) << "  Bleu_4 "
              << fmt(peer["Bleu_4"].get<double>(), 6) << "  ROUGE_L " << fmt(peer["ROUGE_L"].get<double>(), 6) << "\n";
  for (const auto& w : why) std::cout << "  why: " << w << "\n";
  return kExitOk;
}

void check_peer(const std::string& peer) {
  if (peer != "lmms-eval" && peer != "vlmevalkit")
    throw std::invalid_argument("--from: the peer '" + peer + "' is not one lnbench reads (lmms-eval, vlmevalkit)");
}


}  // namespace lnb::harness
