// The one scoring route. A task adapter's score() and every `lnbench score`
// subcommand (the benchmark's own files, and peers' answer files) go through these
// functions, so the routes cannot disagree:
//   - a label becomes ground truth in one place per benchmark (a label that is
//     neither yes nor no is an error naming file and line, or a counted skip; never
//     a silent yes);
//   - an answer is scored exactly as the benchmark's submission file holds it
//     (what the adapter's export writes is what its metrics saw).
// metrics/ counts; this file decides what is counted. Torch-free.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/caption_metrics.h"
#include "metrics/intervals.h"
#include "metrics/mme.h"
#include "metrics/pope.h"
#include "metrics/vqa.h"
#include "tasks/task.h"

namespace lnb::tasks {

// --- Intervals (metrics.json "intervals"; docs/results_store.md) ---------------------
// The bootstrap every headline interval uses: 2000 resamples at 95 %, seeded by the
// task and statistic name, so the same answers give the same interval everywhere.
metrics::BootstrapOptions headline_bootstrap(const std::string& label);
// [lo, hi], or null where the interval is undefined.
nlohmann::ordered_json interval_json(const std::optional<metrics::Interval>& v);
// The "intervals" object's frame: confidence, resamples, and what each method is.
nlohmann::ordered_json intervals_skeleton(const std::string& method);

// --- POPE ---------------------------------------------------------------------------
// A label-file value: "yes" or "no" in any case (parse_yes_no_label); anything else is
// a DataError naming `file`, `line` and the value found.
metrics::YesNo pope_label(std::string_view label, const std::string& file, long line);
// What POPE's answer file holds for a generated answer: LLaVA writes outputs.strip().
std::string pope_answer_text(std::string_view answer);

struct PopeItem {
  std::string split;  // "random", "popular", "adversarial", or a label file's own name
  std::string id;     // the request id (samples.jsonl key)
  // nullopt: an answer beyond the labels under positional pairing (the reference's zip
  // drops it from the confusion counts but its yes-ratio still counts it).
  std::optional<metrics::YesNo> gt;
};
struct PopeSplitScores {
  std::string split;
  metrics::PopeScores reference, exact;  // POPE's reference parser; lmms-eval's exact match
};
struct PopeScored {
  std::vector<PopeSplitScores> splits;    // random, popular, adversarial first, then others as first seen
  std::optional<double> f1_mean, f1_mean_exact;
  double unparseable_rate = 0;            // the exact parser's bucket, over all items
  std::vector<SampleScore> samples;       // items' order
  metrics::PopeIntervals intervals;       // reference parser, per split in `splits` order
};
// answers[i] (as the answer file holds it) answers items[i].
PopeScored score_pope(const std::vector<PopeItem>& items, const std::vector<std::string_view>& answers);
// metrics.json's "splits" object and "values" for a PopeScored.
nlohmann::ordered_json pope_splits_json(const PopeScored& s);
nlohmann::ordered_json pope_values_json(const PopeScored& s);
nlohmann::ordered_json pope_intervals_json(const PopeScored& s);

// --- MME ----------------------------------------------------------------------------
// What the eval_tool's <subtask>.txt holds as the response: the answer .strip()ped,
// tabs and newlines as spaces (LLaVA's convert_answer_to_mme).
std::string mme_response_text(std::string_view answer);

struct MmeItem {
  std::string subtask;
  std::string id;
  std::string gt;    // "Yes"/"No" as the benchmark file spells it
  std::string file;  // where gt came from, for messages
  long line = 0;
};
struct MmeScored {
  metrics::MmeScores scores;
  std::vector<SampleScore> samples;  // items' order
};
// responses[i] (the eval_tool field, without its line end) answers items[i]. The
// eval_tool's parse sees the response with its "\n", as readlines() gives it.
MmeScored score_mme(const std::vector<MmeItem>& items, const std::vector<std::string_view>& responses);

// --- VQAv2 --------------------------------------------------------------------------
struct VqaItem {
  std::string id;
  int64_t order = 0;  // the question's position in the annotation file: the official loop order
  const metrics::VqaQuestion* gt = nullptr;
};
struct VqaScored {
  std::vector<metrics::VqaScores> scores;  // one per normalization asked for, in that order
  std::vector<SampleScore> samples;        // items' order; score = official accuracy x100
};
// answers[i] answers items[i], raw or stripped alike (the official scorer strips).
VqaScored score_vqa(const std::vector<VqaItem>& items, const std::vector<std::string_view>& answers,
                    const std::vector<metrics::VqaNormalization>& normalizations);

// --- Captions -----------------------------------------------------------------------
// What the COCO results file holds for a generated caption: .strip()ped.
std::string caption_text(std::string_view answer);
struct CaptionScored {
  metrics::CaptionScores scores;
  std::vector<std::string> tokenized_candidates;  // items' order
};
// pycocoevalcap's pipeline: one PTB tokenizer run over all references and one over all
// candidates (on two threads), then BLEU, ROUGE-L and CIDEr-D. `fixed_idf` selects the
// fixed-reference IDF mode.
CaptionScored score_captions(const std::vector<std::string>& image_ids,
                             const std::vector<std::vector<std::string>>& references,
                             const std::vector<std::string>& candidates, const metrics::FixedIdf* fixed_idf = nullptr);

}  // namespace lnb::tasks
