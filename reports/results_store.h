// Reads the results store (docs/results_store.md) into memory: runs, their cells
// (model x strategy) with training accounting, and each task's metrics. Samples are
// read on demand (only the runs a report compares need them). Bad files are
// StoreError naming the file and field; reports never read anything else.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lnb::reports {

namespace fs = std::filesystem;

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A 95 % interval from metrics.json "intervals" (tasks/scoring.h says how each is made).
struct Range {
  double lo = 0, hi = 0;
};

struct TaskResult {
  std::string task;
  std::map<std::string, std::optional<double>> values;
  std::map<std::string, std::map<std::string, std::optional<double>>> splits;
  std::map<std::string, Range> value_intervals;                          // by value name
  std::map<std::string, std::map<std::string, Range>> split_intervals;  // split -> name
  std::string interval_method;
  std::map<std::string, std::string> definitions;
  std::string prompt_asset, fingerprint;
  std::optional<double> unparseable_rate, samples_per_s, peak_eval_memory_bytes;
  fs::path dir;  // where samples.jsonl lives

  // A value or its interval by split ("" = the task-level values) and name; nullopt
  // when the split or the name is absent.
  std::optional<double> value(const std::string& split, const std::string& name) const;
  std::optional<Range> interval(const std::string& split, const std::string& name) const;
};

struct Cell {
  std::string model, strategy;
  std::string source;  // "" (trained here or the base), or an external checkpoint's kind: peft, llava-lora, full, lnbench
  std::optional<double> trainable_params, total_params, optimizer_state_bytes, peak_train_memory_bytes,
      checkpoint_bytes, train_seconds;
  std::map<std::string, TaskResult> tasks;  // by task name
};

struct Run {
  std::string run_id, date, git_sha, protocol;
  std::vector<Cell> cells;  // sorted by (model, strategy)
};

struct Sample {
  std::string id, split, prompt, answer, parsed;
  std::string image;      // absolute path as the evaluator saw it; "" for none
  std::string question;   // the user's question without the image line
  std::string reference;  // the ground truth for a reader: the label, or the distinct
                          // references with their counts ("yes x9 · no x1"); "" for none
  std::optional<double> score;
  std::optional<bool> correct;
};

// Every run under `root` (a folder with run.json), sorted by (date, run_id).
std::vector<Run> read_store(const fs::path& root);

// samples.jsonl of one task result, in file order.
std::vector<Sample> read_samples(const TaskResult& task);

// Every task result's samples of one run, each samples.jsonl read once: the report's
// regressions, flips, pairwise verdicts and sample browser all read the newest night
// from here.
struct SampleKey {
  std::string model, strategy, task;
  bool operator<(const SampleKey& o) const;
};
using RunSamples = std::map<SampleKey, std::vector<Sample>>;  // file order
RunSamples read_run_samples(const Run& run);

// The ground truth of a samples.jsonl "reference" as Sample::reference shows it.
std::string reference_text(const nlohmann::json& reference);

// The samples of one (model, strategy, task) present in both runs, paired by id:
// (baseline, current) in the current file's order. Regressions and flips both read
// these.
struct PairedTask {
  std::string model, strategy, task;
  std::vector<std::pair<Sample, Sample>> pairs;
};
std::vector<PairedTask> pair_samples(const Run& baseline, const RunSamples& current);

}  // namespace lnb::reports
