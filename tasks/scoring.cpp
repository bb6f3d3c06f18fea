// See scoring.h.
#include "tasks/scoring.h"

#include <algorithm>
#include <future>
#include <map>

#include "common/json_io.h"
#include "metrics/ptb_tokenizer.h"
#include "metrics/utf8.h"
#include "tasks/answer_parsers.h"
#include "tasks/data_error.h"
#include "tasks/text_util.h"

namespace lnb::tasks {
namespace {

using nlohmann::ordered_json;

ordered_json opt(const std::optional<double>& v) { return v ? ordered_json(*v) : ordered_json(nullptr); }

std::string pope_label_name(metrics::YesNo v) {
  return v == metrics::YesNo::kYes ? "yes" : v == metrics::YesNo::kNo ? "no" : "unparseable";
}

std::string mme_label_name(metrics::YesNo v) {
  return v == metrics::YesNo::kYes ? "yes" : v == metrics::YesNo::kNo ? "no" : "other";
}

}  // namespace

// --- Intervals ----------------------------------------------------------------------

metrics::BootstrapOptions headline_bootstrap(const std::string& label) {
  metrics::BootstrapOptions o;
  o.seed = metrics::bootstrap_seed(o.seed, label);
  return o;
}

ordered_json interval_json(const std::optional<metrics::Interval>& v) {
  return v ? ordered_json::array({v->lo, v->hi}) : ordered_json(nullptr);
}

ordered_json intervals_skeleton(const std::string& method) {
  const metrics::BootstrapOptions o;
  return {{"confidence", o.confidence}, {"resamples", o.resamples}, {"method", method},
          {"bootstrap", "percentile, numpy-linear quantiles; SplitMix64 seeded by " + std::to_string(o.seed) +
                        " mixed with the task and statistic (metrics/intervals.h)"},
          {"values", ordered_json::object()}, {"splits", ordered_json::object()}};
}

// --- POPE ---------------------------------------------------------------------------

metrics::YesNo pope_label(std::string_view label, const std::string& file, long line) {
  const metrics::YesNo v = parse_yes_no_label(label);
  if (v == metrics::YesNo::kUnparseable)
    throw DataError({file, line, "label", "\"yes\" or \"no\" (any case)",
                     common::json_excerpt(nlohmann::json(std::string(label))),
                     "POPE's evaluate.py would count it as yes (label != 'no'); fix the file, or pass "
                     "--skip-bad-samples to count it as a skipped sample"});
  return v;
}

std::string pope_answer_text(std::string_view answer) { return metrics::py_strip(answer); }

PopeScored score_pope(const std::vector<PopeItem>& items, const std::vector<std::string_view>& answers) {
  if (items.size() != answers.size()) throw std::logic_error("score_pope: one answer per item");
  std::map<std::string, std::pair<metrics::PopeAccumulator, metrics::PopeAccumulator>> acc;  // reference, exact
  std::vector<std::string> seen_order;
  PopeScored out;
  int64_t n_exact_unparseable = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const PopeItem& it = items[i];
    const metrics::YesNo ref = pope_parse_reference(answers[i]), exact = pope_parse_exact(answers[i]);
    if (!acc.count(it.split)) seen_order.push_back(it.split);
    auto& [a_ref, a_exact] = acc[it.split];
    a_ref.add(static_cast<int64_t>(i), it.gt, ref);
    a_exact.add(static_cast<int64_t>(i), it.gt, exact);
    n_exact_unparseable += exact == metrics::YesNo::kUnparseable;
    const std::optional<bool> correct = it.gt ? std::optional<bool>(ref == *it.gt) : std::nullopt;
    const ordered_json correct_exact = it.gt ? ordered_json(exact == *it.gt) : ordered_json(nullptr);
    out.samples.push_back({it.id, pope_label_name(ref), std::nullopt, correct,
                           {{"parsed_exact", pope_label_name(exact)}, {"correct_exact", correct_exact}},
                           it.gt ? ordered_json(pope_label_name(*it.gt)) : ordered_json(nullptr)});
  }
  std::vector<std::string> order;
  for (const char* s : {"random", "popular", "adversarial"})
    if (acc.count(s)) order.emplace_back(s);
  for (const std::string& s : seen_order)
    if (std::find(order.begin(), order.end(), s) == order.end()) order.push_back(s);
  std::vector<metrics::PopeScores> refs, exacts;
  std::vector<const metrics::PopeAccumulator*> ref_accs;
  for (const std::string& split : order) {
    const auto& [a_ref, a_exact] = acc.at(split);
    ref_accs.push_back(&a_ref);
    out.splits.push_back({split, a_ref.compute(), a_exact.compute()});
    refs.push_back(out.splits.back().reference);
    exacts.push_back(out.splits.back().exact);
  }
  out.f1_mean = metrics::pope_mean_f1(refs);
  out.f1_mean_exact = metrics::pope_mean_f1(exacts);
  out.intervals = metrics::pope_intervals(ref_accs, headline_bootstrap("pope/f1"));
  out.unparseable_rate =
      items.empty() ? 0.0 : static_cast<double>(n_exact_unparseable) / static_cast<double>(items.size());
  return out;
}

ordered_json pope_splits_json(const PopeScored& s) {
  ordered_json splits = ordered_json::object();
  for (const PopeSplitScores& p : s.splits) {
    const metrics::PopeScores &r = p.reference, &e = p.exact;
    splits[p.split] = {{"f1", opt(r.f1)}, {"accuracy", opt(r.accuracy)}, {"precision", opt(r.precision)},
                       {"recall", opt(r.recall)}, {"yes_ratio", opt(r.yes_ratio)},
                       {"f1_exact", opt(e.f1)}, {"accuracy_exact", opt(e.accuracy)},
                       {"unparseable_rate_exact", e.unparseable_rate}, {"n", r.n_answers}};
  }
  return splits;
}

ordered_json pope_values_json(const PopeScored& s) {
  return {{"f1_mean", opt(s.f1_mean)}, {"f1_mean_exact", opt(s.f1_mean_exact)}};
}

ordered_json pope_intervals_json(const PopeScored& s) {
  ordered_json j = intervals_skeleton("accuracy: Wilson score interval; f1 and f1_mean: bootstrap over answers, "
                                      "stratified by split (f1_mean averages the resampled splits' F1)");
  j["values"]["f1_mean"] = interval_json(s.intervals.f1_mean);
  for (size_t i = 0; i < s.splits.size(); ++i)
    j["splits"][s.splits[i].split] = {{"f1", interval_json(s.intervals.f1[i])},
                                      {"accuracy", interval_json(s.intervals.accuracy[i])}};
  return j;
}

// --- MME ----------------------------------------------------------------------------

std::string mme_response_text(std::string_view answer) { return one_line(metrics::py_strip(answer)); }

MmeScored score_mme(const std::vector<MmeItem>& items, const std::vector<std::string_view>& responses) {
  if (items.size() != responses.size()) throw std::logic_error("score_mme: one response per item");
  metrics::MmeAccumulator acc;
  std::map<std::string, int64_t> order;
  MmeScored out;
  for (size_t i = 0; i < items.size(); ++i) {
    const MmeItem& it = items[i];
    const metrics::YesNo gt = parse_yes_no_label(it.gt);
    if (gt == metrics::YesNo::kUnparseable)
      throw DataError({it.file, it.line, "GT", "Yes or No", common::json_excerpt(nlohmann::json(it.gt)), ""});
    const metrics::YesNo pred = mme_parse_response(std::string(responses[i]) + "\n");
    acc.add(it.subtask, order[it.subtask]++, gt, pred);
    out.samples.push_back({it.id, mme_label_name(pred), pred == gt ? 1.0 : 0.0, pred == gt, ordered_json::object(), it.gt});
  }
  out.scores = acc.compute();
  return out;
}

// --- VQAv2 --------------------------------------------------------------------------

VqaScored score_vqa(const std::vector<VqaItem>& items, const std::vector<std::string_view>& answers,
                    const std::vector<metrics::VqaNormalization>& normalizations) {
  if (items.size() != answers.size()) throw std::logic_error("score_vqa: one answer per item");
  std::vector<metrics::VqaAccumulator> acc;
  for (const auto n : normalizations) acc.emplace_back(n);
  VqaScored out;
  for (size_t i = 0; i < items.size(); ++i) {
    for (auto& a : acc) a.add(items[i].order, *items[i].gt, answers[i]);
    const double q = metrics::vqa_question_accuracy(*items[i].gt, answers[i], metrics::VqaNormalization::kOfficial);
    ordered_json reference = ordered_json::array();
    for (const metrics::VqaGtAnswer& a : items[i].gt->answers) reference.push_back(a.answer);
    out.samples.push_back({items[i].id, metrics::vqa_evalai_process(answers[i]), 100 * q, std::nullopt,
                           ordered_json::object(), std::move(reference)});
  }
  for (const auto& a : acc) out.scores.push_back(a.compute());
  return out;
}

// --- Captions -----------------------------------------------------------------------

std::string caption_text(std::string_view answer) { return metrics::py_strip(answer); }

CaptionScored score_captions(const std::vector<std::string>& image_ids,
                             const std::vector<std::vector<std::string>>& references,
                             const std::vector<std::string>& candidates, const metrics::FixedIdf* fixed_idf) {
  if (image_ids.size() != references.size() || image_ids.size() != candidates.size())
    throw std::logic_error("score_captions: one reference set and one candidate per image");
  auto refs_future = std::async(std::launch::async, [&references] { return metrics::coco_tokenize_grouped(references); });
  CaptionScored out;
  out.tokenized_candidates = metrics::coco_tokenize(candidates);
  std::vector<std::vector<std::string>> tok_refs = refs_future.get();
  metrics::CaptionAccumulator acc;
  for (size_t i = 0; i < image_ids.size(); ++i)
    acc.add(static_cast<int64_t>(i), image_ids[i], out.tokenized_candidates[i], std::move(tok_refs[i]));
  out.scores = fixed_idf ? acc.compute(metrics::CiderIdf::kFixedReference, fixed_idf) : acc.compute();
  return out;
}

}  // namespace lnb::tasks
