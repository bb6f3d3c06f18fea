// POPE (Li et al.) on COCO: coco_pope_{random,popular,adversarial}.json, JSON lines of
// {question_id, image, text, label}. Both label-file generations are accepted: the
// current ones (3000 questions each) and the older e3e3926 ones LLaVA pins (random has
// 2910); which one was read is named in the definitions and pinned by the fingerprint.
// Scored per split with both parsers (POPE's reference parser, headline; lmms-eval's
// exact match beside it), F1 averaged over the splits as LLaVA-1.5 reports it, and the
// yes-ratio of the predictions (not of the labels).
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_set>

#include "metrics/pope.h"
#include "common/file_io.h"
#include "tasks/answer_parsers.h"
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
const std::vector<std::string> kSplits = {"random", "popular", "adversarial"};

class PopeTask final : public Task {
 public:
  std::string_view name() const override { return "pope"; }
  std::vector<std::pair<std::string, std::string>> files() const override {
    return {{"random", "coco_pope_random.json (searched in the root, coco/ and output/coco/)"},
            {"popular", "coco_pope_popular.json"},
            {"adversarial", "coco_pope_adversarial.json"},
            {"images", "val2014: the COCO images the label files name"}};
  }

 protected:
  LoadInfo do_load(const TaskOptions& options) override {
    std::vector<std::string> splits;
    if (options.split.empty() || options.split == "all") {
      splits = kSplits;
    } else {
      std::stringstream in(options.split);
      for (std::string s; std::getline(in, s, ',');) {
        if (std::find(kSplits.begin(), kSplits.end(), s) == kSplits.end())
          throw std::invalid_argument("POPE split '" + s + "' is not one of all, random, popular, adversarial");
        splits.push_back(s);
      }
    }
    const fs::path images = options.files.count("images") ? file_option(options, "images", "")
                            : fs::is_directory(root_ / "val2014") ? root_ / "val2014"
                                                                  : root_;
    const std::string suffix = short_answer_suffix(options);
    const int max_new = max_new_tokens(options, kDefaultMaxNewTokens);
    LoadInfo info;
    info.metric_version = "pope/1 reference-parser + exact";
    for (const std::string& split : splits) {
      const fs::path file = label_file(options, split);
      info.data_files.push_back(file);
      const std::vector<PopeLabel> labels = read_pope_labels(file);
      file_versions_[split] = version_of(split, labels.size());
      std::unordered_set<int64_t> seen;
      for (size_t i = 0; i < labels.size(); ++i) {
        const PopeLabel& l = labels[i];
        const long line = static_cast<long>(i + 1);  // read_pope_labels skips no line in official files
        metrics::YesNo gt = metrics::YesNo::kUnparseable;
        try {
          gt = pope_label(l.label, file.string(), line);
        } catch (const DataError& e) {
          if (!options.skip_bad_samples) throw;
          bad_sample(options, {file.string(), line, "label " + e.info().got + " is neither yes nor no"});
          continue;
        }
        if (!seen.insert(l.question_id).second)
          throw DataError({file.string(), line, "question_id", "unique ids within a split", std::to_string(l.question_id), ""});
        const fs::path image = inside_root(images, l.image, file.string(), line, "image");
        if (!fs::is_regular_file(image)) {
          bad_sample(options, {file.string(), line, "image " + image.string() + " not found"});
          continue;
        }
        Request r;
        r.id = split + "/" + std::to_string(l.question_id);
        r.split = split;
        r.group = l.image;
        r.image = image;
        r.turns.push_back({std::string(kImageMarker) + "\n" + l.text + suffix, std::nullopt});
        r.max_new_tokens = max_new;
        requests_.push_back(std::move(r));
        items_.push_back({split, l.question_id, l.text, gt});
      }
    }
    info.prompt = {{"template", "<image>\\n{text}{suffix}"}, {"suffix", suffix}, {"max_new_tokens", max_new}};
    for (const auto& [split, v] : file_versions_) info.prompt["label_files"][split] = v;
    return info;
  }

  void keep_only(const std::vector<size_t>& kept) override {
    std::vector<Item> items;
    for (size_t i : kept) items.push_back(items_[i]);
    items_ = std::move(items);
  }

  TaskScores do_score(const std::vector<const std::string*>& answers) const override {
    // Scored as POPE's answer file holds each answer (do_export writes the same text).
    std::vector<std::string> texts;
    std::vector<std::string_view> views;
    for (const std::string* a : answers) texts.push_back(pope_answer_text(*a));
    for (const std::string& t : texts) views.push_back(t);
    std::vector<PopeItem> items;
    for (size_t i = 0; i < items_.size(); ++i) items.push_back({items_[i].split, requests_[i].id, items_[i].gt});
    PopeScored scored = score_pope(items, views);
    TaskScores out;
    out.samples = std::move(scored.samples);
    ordered_json m = metrics_skeleton();
    m["splits"] = pope_splits_json(scored);
    m["values"] = pope_values_json(scored);
    m["intervals"] = pope_intervals_json(scored);
    std::string files;
    for (const auto& [split, v] : file_versions_) files += split + ": " + v + "; ";
    m["definitions"] = {
        {"parser", "pope-reference (AoiDragon/POPE, LLaVA eval_pope.py): text before the first '.', commas removed, "
                   "'no'/'not'/'No' among the words -> no, anything else -> yes"},
        {"parser_exact", "exact (lmms-eval): lower().strip() must be yes or no, else unparseable and wrong"},
        {"answer", "the generated answer .strip()ped, as LLaVA writes POPE's answer file (the exported file)"},
        {"f1_mean", "mean F1 over the splits evaluated, reference parser (the LLaVA-1.5 paper's number)"},
        {"yes_ratio", "fraction of predictions that are yes (lmms-eval's reports the labels' ratio instead)"},
        {"unparseable_rate", "answers that are not exactly yes/no (the exact parser's bucket)"},
        {"label_files", files}};
    m["unparseable_rate"] = scored.unparseable_rate;
    out.metrics = std::move(m);
    return out;
  }

  // POPE's answer files, one per split in label-file order (evaluate.py pairs by
  // position): {"question_id", "question", "answer"} per line.
  std::vector<fs::path> do_export(const std::vector<const std::string*>& answers, const fs::path& dir) const override {
    std::map<std::string, std::string> text;
    for (size_t i = 0; i < items_.size(); ++i)
      text[items_[i].split] += py_json_dumps({{"question_id", items_[i].question_id}, {"question", items_[i].question},
                                              {"answer", pope_answer_text(*answers[i])}}) + "\n";
    std::vector<fs::path> written;
    for (const std::string& split : kSplits) {
      if (!text.count(split)) continue;
      const fs::path p = dir / ("pope_" + split + "_answers.jsonl");
      common::write_file_atomic(p, text[split]);
      written.push_back(p);
    }
    return written;
  }

 private:
  struct Item {
    std::string split;
    int64_t question_id;
    std::string question;
    metrics::YesNo gt;
  };

  fs::path label_file(const TaskOptions& options, const std::string& split) const {
    if (options.files.count(split)) return file_option(options, split, "");
    const std::string name = "coco_pope_" + split + ".json";
    for (const fs::path& dir : {root_, root_ / "coco", root_ / "output" / "coco"})
      if (fs::is_regular_file(dir / name)) return dir / name;
    throw DataError({(root_ / name).string(), 0, "", "POPE's label file " + name, "not found in the root, coco/ or output/coco/",
                     "set files." + split});
  }

  static std::string version_of(const std::string& split, size_t n) {
    if (n == 3000) return "3000 questions (current POPE files)";
    if (split == "random" && n == 2910) return "2910 questions (POPE e3e3926, the files LLaVA pins)";
    return std::to_string(n) + " questions (not an official count: a subset or a modified file)";
  }

  std::vector<Item> items_;  // parallel to requests_
  std::map<std::string, std::string> file_versions_;
};

}  // namespace

std::unique_ptr<Task> make_pope_task() { return std::make_unique<PopeTask>(); }

}  // namespace lnb::tasks
