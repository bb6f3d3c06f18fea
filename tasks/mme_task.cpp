// MME (Fu et al.): 14 subtasks of yes/no question pairs, 2 per image.
// Reads MME_Benchmark_release_version as distributed: per-subtask folders that are
// either flat (image + same-stem .txt side by side) or split into images/ and
// questions_answers_YN/; every .txt holds "question \t Yes|No" lines, 2 per image.
// Order = the eval_tool's Your_Results order (images sorted by file name, the .txt's
// line order), which is also what pairs consecutive lines when scoring. Optionally the
// questions come from LLaVA's llava_mme.jsonl (files["questions"]), whose prompts are
// used verbatim and whose ground truth is looked up the way LLaVA's
// convert_answer_to_mme.py does it.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "metrics/mme.h"
#include "common/file_io.h"
#include "tasks/answer_parsers.h"
#include "tasks/benchmark_files.h"
#include "metrics/utf8.h"
#include "tasks/data_error.h"
#include "tasks/json_fields.h"
#include "tasks/scoring.h"
#include "tasks/task.h"
#include "tasks/text_util.h"

namespace lnb::tasks {
namespace {

using nlohmann::ordered_json;

constexpr std::string_view kOfficialSuffix = " Please answer yes or no.";
constexpr std::string_view kLlavaSuffixWords = "Answer the question using a single word or phrase.";
constexpr int kDefaultMaxNewTokens = 128;  // LLaVA's scripts

struct MmeQuestion {
  std::string subtask, image_name, question, gt;  // question as in the benchmark (eval_tool column 2)
};

struct QaFile {
  fs::path txt, image;
};

std::vector<std::string> all_subtasks() {
  std::vector<std::string> all = metrics::mme_perception_tasks();
  for (const auto& t : metrics::mme_cognition_tasks()) all.push_back(t);
  return all;
}

class MmeTask final : public Task {
 public:
  std::string_view name() const override { return "mme"; }
  std::vector<std::pair<std::string, std::string>> files() const override {
    return {{"benchmark", "MME_Benchmark_release_version (or the data root itself): the subtask folders"},
            {"questions", "(unset) LLaVA's llava_mme.jsonl: take questions and prompts from it instead"}};
  }

 protected:
  LoadInfo do_load(const TaskOptions& options) override {
    base_ = fs::is_directory(root_ / "MME_Benchmark_release_version") ? root_ / "MME_Benchmark_release_version" : root_;
    if (options.files.count("benchmark")) base_ = file_option(options, "benchmark", "");
    const std::vector<std::string> subtasks = selected_subtasks(options.split);
    LoadInfo info;
    info.metric_version = "mme/1 eval_tool";
    const int max_new = max_new_tokens(options, kDefaultMaxNewTokens);
    if (options.files.count("questions")) {
      const fs::path jsonl = file_option(options, "questions", "");
      info.data_files.push_back(jsonl);
      load_llava_jsonl(jsonl, subtasks, options, max_new, info.data_files);
      info.prompt = {{"source", "llava_mme.jsonl text, verbatim"}, {"image", "<image>\\n before the text"}};
    } else {
      const std::string suffix = short_answer_suffix(options);
      load_benchmark(subtasks, options, max_new, suffix, info.data_files);
      info.prompt = {{"source", "benchmark question with \" Please answer yes or no.\" replaced by the suffix"},
                     {"suffix", suffix}, {"image", "<image>\\n before the question"}};
    }
    info.prompt["max_new_tokens"] = max_new;
    return info;
  }

  void keep_only(const std::vector<size_t>& kept) override {
    std::vector<MmeQuestion> items;
    for (size_t i : kept) items.push_back(std::move(items_[i]));
    items_ = std::move(items);
  }

  TaskScores do_score(const std::vector<const std::string*>& answers) const override {
    // Scored as the eval_tool file holds each response (do_export writes the same text).
    std::vector<std::string> texts;
    std::vector<std::string_view> views;
    for (const std::string* a : answers) texts.push_back(mme_response_text(*a));
    for (const std::string& t : texts) views.push_back(t);
    std::vector<MmeItem> items;  // ground truth checked when loaded (read_qa)
    for (size_t i = 0; i < items_.size(); ++i) items.push_back({items_[i].subtask, requests_[i].id, items_[i].gt, "", 0});
    MmeScored scored = score_mme(items, views);
    TaskScores out;
    out.samples = std::move(scored.samples);
    const metrics::MmeScores& s = scored.scores;
    ordered_json m = metrics_skeleton();
    // A group with no subtask present has no total (not 0): the leaderboard shows "-".
    bool has[2] = {false, false};
    for (const auto& t : s.tasks) has[metrics::mme_is_perception(t.task) ? 0 : 1] = true;
    const ordered_json perception = has[0] ? ordered_json(s.perception) : ordered_json(nullptr);
    const ordered_json cognition = has[1] ? ordered_json(s.cognition) : ordered_json(nullptr);
    m["values"] = {{"perception", perception}, {"cognition", cognition}, {"total", s.perception + s.cognition}};
    const metrics::MmeIntervals ci = metrics::mme_intervals(s, headline_bootstrap("mme/totals"));
    m["intervals"] = intervals_skeleton("bootstrap over whole images (the eval_tool's consecutive line pairs), "
                                        "stratified by subtask; acc and acc+ recomputed per resample");
    m["intervals"]["values"] = {{"perception", interval_json(ci.perception)}, {"cognition", interval_json(ci.cognition)}};
    for (const auto& t : s.tasks)
      m["splits"][t.task] = {{"score", t.score}, {"acc", t.acc}, {"acc_plus", t.acc_plus},
                             {"n_questions", t.n_questions}, {"n_other", t.n_other}};
    m["definitions"] = {
        {"parser", "mme-eval_tool: the response lowercased; exactly yes/no, else 'yes' then 'no' searched in its first "
                   "4 characters, else 'other' (always wrong)"},
        {"response", "the answer .strip()ped (as LLaVA writes it), tabs and newlines as spaces"},
        {"score", "per subtask 100*acc + 100*acc+ (acc+ = both questions of an image right)"},
        {"perception", "sum over the perception subtasks present (all 10: max 2000)"},
        {"cognition", "sum over the cognition subtasks present (all 4: max 800)"},
        {"total", "perception + cognition (papers often quote perception alone)"}};
    m["missing_subtasks"] = s.missing_tasks;
    m["unparseable_rate"] = s.unparseable_rate;
    out.metrics = std::move(m);
    return out;
  }

  // The eval_tool's input: <subtask>.txt with "image \t question \t GT \t response".
  std::vector<fs::path> do_export(const std::vector<const std::string*>& answers, const fs::path& dir) const override {
    std::map<std::string, std::ostringstream> files;
    std::vector<std::string> order;
    for (size_t i = 0; i < items_.size(); ++i) {
      const MmeQuestion& it = items_[i];
      if (!files.count(it.subtask)) order.push_back(it.subtask);
      files[it.subtask] << it.image_name << '\t' << it.question << '\t' << it.gt << '\t' << mme_response_text(*answers[i]) << '\n';
    }
    std::vector<fs::path> written;
    for (const std::string& t : order) {
      const fs::path p = dir / (t + ".txt");
      common::write_file_atomic(p, files[t].str());
      written.push_back(p);
    }
    return written;
  }

 private:

  static std::vector<std::string> selected_subtasks(const std::string& split) {
    const std::vector<std::string> all = all_subtasks();
    if (split.empty() || split == "all") return all;
    std::vector<std::string> out;
    std::stringstream in(split);
    for (std::string t; std::getline(in, t, ',');) {
      if (std::find(all.begin(), all.end(), t) == all.end()) {
        std::string names;
        for (const auto& n : all) names += " " + n;
        throw std::invalid_argument("MME split '" + t + "' is not a subtask (all, or a comma list of:" + names + ")");
      }
      out.push_back(t);
    }
    return out;
  }

  // The subtask's image and question folders: split layout or flat.
  std::pair<fs::path, fs::path> subtask_dirs(const std::string& subtask) const {
    const fs::path dir = base_ / subtask;
    if (!fs::is_directory(dir))
      throw DataError({dir.string(), 0, "", "the MME subtask folder '" + subtask + "'", "no such directory",
                       "point --data at MME_Benchmark_release_version or its parent"});
    if (fs::is_directory(dir / "images")) {
      if (!fs::is_directory(dir / "questions_answers_YN"))
        throw DataError({(dir / "questions_answers_YN").string(), 0, "", "the questions folder beside images/", "none", ""});
      return {dir / "images", dir / "questions_answers_YN"};
    }
    return {dir, dir};
  }

  static fs::path find_image(const fs::path& images, const std::string& stem) {
    for (const char* ext : {".jpg", ".png", ".jpeg", ".JPG", ".PNG", ".JPEG"}) {
      const fs::path p = images / (stem + ext);
      if (fs::is_regular_file(p)) return p;
    }
    return {};
  }

  void add(const MmeQuestion& item, const fs::path& image, size_t k, std::string prompt, int max_new) {
    Request r;
    r.id = item.subtask + "/" + item.image_name + "#" + std::to_string(k);
    r.split = item.subtask;
    r.group = item.subtask + "/" + item.image_name;
    r.image = image;
    r.turns.push_back({std::string(kImageMarker) + "\n" + std::move(prompt), std::nullopt});
    r.max_new_tokens = max_new;
    requests_.push_back(std::move(r));
    items_.push_back(item);
  }

  void load_benchmark(const std::vector<std::string>& subtasks, const TaskOptions& options, int max_new,
                      const std::string& suffix, std::vector<fs::path>& data_files) {
    for (const std::string& subtask : subtasks) {
      const auto [images, qa] = subtask_dirs(subtask);
      std::vector<QaFile> found;
      for (const auto& e : fs::directory_iterator(qa)) {
        if (!e.is_regular_file() || e.path().extension() != ".txt") continue;
        const fs::path image = find_image(images, e.path().stem().string());
        if (image.empty()) {
          bad_sample(options, {e.path().string(), 0, "no image " + e.path().stem().string() + ".{jpg,png,jpeg} in " + images.string()});
          continue;
        }
        found.push_back({e.path(), image});
      }
      std::sort(found.begin(), found.end(),
                [](const QaFile& a, const QaFile& b) { return a.image.filename().string() < b.image.filename().string(); });
      if (found.empty()) throw DataError({qa.string(), 0, "", "question files (*.txt)", "none", ""});
      for (const QaFile& f : found) {
        data_files.push_back(f.txt);
        const auto qas = read_mme_questions(f.txt);
        if (qas.size() != 2) {
          bad_sample(options, {f.txt.string(), static_cast<long>(qas.size()),
                               std::to_string(qas.size()) + " questions for one image (MME pairs 2 per image)"});
          continue;
        }
        for (size_t k = 0; k < qas.size(); ++k) {
          const MmeQuestion item{subtask, f.image.filename().string(), qas[k].first, qas[k].second};
          add(item, f.image, k, replace_all(qas[k].first, kOfficialSuffix, "") + suffix, max_new);
        }
      }
    }
  }

  // LLaVA's llava_mme.jsonl: {question_id, image, text, category}; ground truth from the
  // benchmark folder, keyed (category, <image stem>.txt, question) as convert_answer_to_mme.py.
  void load_llava_jsonl(const fs::path& jsonl, const std::vector<std::string>& subtasks, const TaskOptions& options,
                        int max_new, std::vector<fs::path>& data_files) {
    const std::set<std::string> wanted(subtasks.begin(), subtasks.end());
    std::map<std::string, std::map<std::string, std::vector<std::pair<std::string, std::string>>>> gt;  // subtask -> txt
    auto gt_of = [&](const std::string& subtask, const std::string& txt_name) -> const auto& {
      auto& per = gt[subtask];
      if (!per.count(txt_name)) {
        const fs::path txt = subtask_dirs(subtask).second / txt_name;
        per[txt_name] = fs::is_regular_file(txt) ? read_mme_questions(txt) : std::vector<std::pair<std::string, std::string>>{};
        if (fs::is_regular_file(txt)) data_files.push_back(txt);
      }
      return per[txt_name];
    };
    std::map<std::string, size_t> seen;  // group -> questions so far
    for (const auto& [line, j] : json_fields::read_json_lines(jsonl)) {
      const std::string image_rel = json_fields::string_field(j, "image", jsonl, line, "");
      const std::string text = json_fields::string_field(j, "text", jsonl, line, "");
      const std::string subtask = j.contains("category") ? json_fields::string_field(j, "category", jsonl, line, "")
                                                          : image_rel.substr(0, image_rel.find('/'));
      if (!wanted.count(subtask)) continue;
      const fs::path image = inside_root(base_, image_rel, jsonl.string(), line, "image");
      if (!fs::is_regular_file(image)) {
        bad_sample(options, {jsonl.string(), line, "image '" + image_rel + "' not found under " + base_.string()});
        continue;
      }
      // convert_answer_to_mme.py: drop the short-answer words, strip, re-add the official
      // suffix, and try its double-space variant when the single-space one is unknown.
      std::string q = text;
      if (q.find(kLlavaSuffixWords) != std::string::npos) q = metrics::py_strip(replace_all(q, kLlavaSuffixWords, ""));
      const std::string txt_name = image.stem().string() + ".txt";
      const auto& qas = gt_of(subtask, txt_name);
      auto lookup = [&](const std::string& s) -> const std::string* {
        for (const auto& [question, answer] : qas)
          if (question == s) return &answer;
        return nullptr;
      };
      const std::string* answer = nullptr;
      if (q.find("Please answer yes or no.") == std::string::npos) {
        q += std::string(kOfficialSuffix);
        answer = lookup(q);
        if (answer == nullptr) {
          q = replace_all(q, kOfficialSuffix, "  Please answer yes or no.");
          answer = lookup(q);
        }
      } else {
        answer = lookup(q);
      }
      if (answer == nullptr)
        throw DataError({jsonl.string(), line, "text", "a question of " + subtask + "/" + txt_name, "'" + q.substr(0, 80) + "'",
                         "llava_mme.jsonl and the benchmark folder disagree"});
      const std::string group = subtask + "/" + image.filename().string();
      const size_t k = seen[group]++;
      add({subtask, image.filename().string(), q, *answer}, image, k, text, max_new);
    }
    for (const auto& [group, n] : seen)
      if (n != 2) throw DataError({jsonl.string(), 0, "image", "2 questions per image", std::to_string(n) + " for " + group, ""});
  }

  fs::path base_;
  std::vector<MmeQuestion> items_;  // parallel to requests_
};

}  // namespace

std::unique_ptr<Task> make_mme_task() { return std::make_unique<MmeTask>(); }

}  // namespace lnb::tasks
