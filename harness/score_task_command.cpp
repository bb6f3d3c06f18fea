// `lnbench score task TASK --data DIR ...`: a benchmark adapter without a model.
// --requests prints the requests as JSON lines (id, split, image, turns, limits), so any
// system can answer them; --answers FILE (JSON lines {"id", "answer"|"text"}) scores
// those answers like `lnbench eval` would: metrics.json, samples.jsonl and the
// benchmark's submission files under --out. Bad input -> exit 2 naming file and line.
#include <fstream>
#include <iostream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "harness/cli.h"
#include "tasks/data_error.h"
#include "tasks/json_fields.h"
#include "tasks/task.h"

namespace lnb::harness {
namespace {

using nlohmann::ordered_json;

struct ScoreTaskArgs {
  std::string task, data, answers, out, split;
  int64_t limit = -1;
  bool skip_bad = false, requests = false, allow_symlinks_out = false;
  std::vector<std::string> files;
};

ordered_json turns_json(const tasks::Request& r) {
  ordered_json turns = ordered_json::array();
  for (const auto& t : r.turns)
    turns.push_back({{"user", t.user}, {"assistant", t.assistant ? ordered_json(*t.assistant) : ordered_json(nullptr)}});
  return turns;
}

// Without a model there is no chat template: samples.jsonl keeps the turns as text.
std::string plain_prompt(const tasks::Request& r) {
  std::string s;
  for (const auto& t : r.turns) s += "USER: " + t.user + "\nASSISTANT:" + (t.assistant ? " " + *t.assistant + "\n" : "");
  return s;
}

int run(const ScoreTaskArgs& a) {
  tasks::TaskOptions o;
  o.split = a.split;
  if (a.limit >= 0) o.limit = a.limit;
  o.skip_bad_samples = a.skip_bad;
  o.allow_symlinks_out = a.allow_symlinks_out;
  for (const std::string& kv : a.files) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw std::invalid_argument("--file expects KEY=PATH, got '" + kv + "'");
    o.files[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto task = tasks::make_task(a.task);
  task->load(a.data, o);
  if (a.requests) {
    for (const auto& r : task->requests())
      std::cout << ordered_json({{"id", r.id}, {"split", r.split}, {"image", r.image.string()}, {"turns", turns_json(r)},
                                 {"max_new_tokens", r.max_new_tokens}}).dump(-1, ' ', false, ordered_json::error_handler_t::replace)
                << "\n";
    return kExitOk;
  }
  if (a.answers.empty()) throw std::invalid_argument("give --answers FILE to score, or --requests to list the requests");
  std::vector<tasks::Answer> answers;
  for (const auto& [line, j] : tasks::json_fields::read_json_lines(a.answers)) {
    tasks::Answer ans;
    ans.id = tasks::json_fields::string_field(j, "id", a.answers, line, "");
    ans.text = tasks::json_fields::string_field(j, j.contains("answer") ? "answer" : "text", a.answers, line, "");
    answers.push_back(std::move(ans));
  }
  if (answers.empty()) throw tasks::DataError({a.answers, 0, "", "one answer per request", "no answers", ""});
  tasks::TaskScores s;
  try {
    s = task->score(answers);
  } catch (const tasks::DataError& e) {  // the adapter names "answers": say which file
    tasks::DataErrorInfo info = e.info();
    if (info.file == "answers") info.file = a.answers;
    throw tasks::DataError(info);
  }
  if (!a.out.empty()) {
    // Each file through the one atomic writer; metrics.json last, so a folder with a
    // metrics.json is a finished one and a failed rerun leaves the previous results whole.
    const std::filesystem::path out(a.out);
    std::filesystem::create_directories(out / "submission");
    std::unordered_map<std::string, const std::string*> by_id;
    for (const auto& ans : answers) by_id[ans.id] = &ans.text;
    std::string samples;
    for (size_t i = 0; i < s.samples.size(); ++i) {
      const auto& r = task->requests()[i];
      samples += tasks::sample_record(r, task->data_root(), plain_prompt(r), *by_id[r.id], s.samples[i])
                     .dump(-1, ' ', false, ordered_json::error_handler_t::replace) + "\n";
    }
    common::write_file_atomic(out / "samples.jsonl", samples);
    task->export_submission(answers, out / "submission");
    common::write_file_atomic(out / "metrics.json", s.metrics.dump(2) + "\n");
  }
  std::cout << ordered_json({{"task", a.task}, {"n_samples", s.samples.size()}, {"values", s.metrics["values"]},
                             {"unparseable_rate", s.metrics["unparseable_rate"]}, {"fingerprint", task->fingerprint()},
                             {"skipped", s.metrics["skipped"]["count"]}})
                   .dump(2)
            << "\n";
  return kExitOk;
}

}  // namespace

void register_score_task(CLI::App* score, int& exit_code) {
  static ScoreTaskArgs a;
  CLI::App* t = score->add_subcommand("task", "A benchmark adapter without a model: list its requests or score answers");
  t->add_option("task", a.task, "mme | vqav2 | coco | flickr30k | pope")->required();
  t->add_option("--data", a.data, "the benchmark's folder as its authors distribute it")->required();
  t->add_option("--answers", a.answers, "JSON lines {\"id\", \"answer\"} (or \"text\"), one per request");
  t->add_option("--out", a.out, "write metrics.json, samples.jsonl and submission/ here");
  t->add_option("--split", a.split, "task split (MME subtasks, POPE splits, VQAv2 val|test-dev|test, captions test|all|...)");
  t->add_option("--limit", a.limit, "at least this many requests, whole images, deterministic")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));  // a readable range, not DBL_MAX's 309 digits
  t->add_option("--file", a.files, "KEY=PATH: replace one of the adapter's files (repeatable)");
  t->add_flag("--skip-bad-samples", a.skip_bad, "count bad samples (missing image, ...) instead of failing");
  t->add_flag("--requests", a.requests, "print the requests as JSON lines and exit");
  t->add_flag("--allow-symlinks-out", a.allow_symlinks_out,
              "follow symlinks that leave the data folder (refused by default: a benchmark's files live inside it)");
  t->callback([&exit_code] { guarded(exit_code, [] { return run(a); }, "lnbench score task"); });
}

}  // namespace lnb::harness
