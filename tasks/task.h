// The task adapter contract (DESIGN.md "tasks/"): an adapter reads one benchmark's
// official files, yields Requests (an image, a conversation with one image slot,
// generation limits) and scores free-text answers through metrics/. It knows nothing
// of tensors or of the model: the same adapter scores answers from any system, and the
// chat template that renders the turns is the model's business (model/chat_template).
//
// Lifecycle: make_task(name) -> load(root, options) -> requests(); then score(answers)
// and export_submission(answers, dir) any number of times. Bad data is a DataError
// naming file and line, or, with options.skip_bad_samples, a counted Skip that
// metrics.json shows; never silent.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lnb::tasks {

namespace fs = std::filesystem;

inline constexpr std::string_view kImageMarker = "<image>";
// LLaVA-1.5's short-answer instruction (MME, VQAv2, POPE under the llava15 preset).
inline constexpr std::string_view kShortAnswerSuffix = "\nAnswer the question using a single word or phrase.";

struct Turn {
  std::string user;                      // the last user turn holds the one "<image>"
  std::optional<std::string> assistant;  // absent on the last turn: the model answers it
};

struct Request {
  std::string id;      // unique within the task and stable across nights (samples.jsonl key)
  std::string split;   // MME subtask, POPE split, VQAv2/caption split name
  std::string group;   // requests of one image share it: batching and --limit keep groups whole
  fs::path image;      // inside the data root (checked); empty for a text-only request
  std::vector<Turn> turns;
  int max_new_tokens = 128;
  std::vector<std::string> stop;
};

struct TaskOptions {
  std::string split;                         // "" = the task's default split
  std::optional<int64_t> limit;              // >= this many requests, whole images, deterministic
  bool skip_bad_samples = false;             // count bad samples instead of failing the task
  std::map<std::string, std::string> files;  // per-task file overrides (see each adapter's files())
  std::optional<std::string> short_answer_suffix;  // MME, VQAv2, POPE
  std::optional<int> max_new_tokens;
  fs::path prompt_asset;                     // captions: "" = the built-in caption-3shot asset
  bool allow_symlinks_out = false;           // follow symlinks that leave the data root (refused by default)
};

struct Skip {
  std::string file;
  long line = 0;
  std::string reason;
};

struct Answer {
  std::string id;
  std::string text;  // the model's decoded output, as generated
};

// One scored answer: what samples.jsonl keeps beside the prompt and the raw answer.
struct SampleScore {
  std::string id;
  std::string parsed;            // the label or normalized text the metric saw
  std::optional<double> score;   // graded tasks (VQA accuracy 0-100, per-image CIDEr)
  std::optional<bool> correct;   // yes/no tasks
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // e.g. POPE's exact-match parse
  // The ground truth as the benchmark gives it: a label ("yes", "Yes"), VQA's ten
  // answers, a caption's references; null where the split has none.
  nlohmann::ordered_json reference = nullptr;
};

struct TaskScores {
  nlohmann::ordered_json metrics;   // a metrics.json object, schema lnbench.metrics/1
  std::vector<SampleScore> samples; // request order
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string_view name() const = 0;
  // The `files` keys this adapter understands, each with its default and meaning.
  virtual std::vector<std::pair<std::string, std::string>> files() const = 0;

  // Reads the benchmark under `data_root`. Throws DataError (or std::invalid_argument
  // for a bad option) and leaves the task unloaded.
  void load(const fs::path& data_root, const TaskOptions& options);

  const std::vector<Request>& requests() const { return requests_; }
  const std::vector<Skip>& skipped() const { return skipped_; }
  // sha256 over `fingerprint_detail()`: nights compare only when these are equal.
  const std::string& fingerprint() const { return fingerprint_; }
  const nlohmann::ordered_json& fingerprint_detail() const { return fingerprint_detail_; }
  const fs::path& data_root() const { return root_; }

  // Exactly one answer per request (matched by id); DataError naming the first
  // missing, unknown or repeated id otherwise.
  TaskScores score(const std::vector<Answer>& answers) const;
  // The benchmark's submission format under `dir`; returns the files written.
  std::vector<fs::path> export_submission(const std::vector<Answer>& answers, const fs::path& dir) const;

 protected:
  // Adapter hooks. do_load fills requests_ (and its own ground truth) and returns the
  // data files it read (for the fingerprint) plus the definitions that shape prompts.
  struct LoadInfo {
    std::vector<fs::path> data_files;
    nlohmann::ordered_json prompt = nlohmann::ordered_json::object();  // suffix, asset, ...
    std::string metric_version;
  };
  virtual LoadInfo do_load(const TaskOptions& options) = 0;
  // `answers[i]` answers requests_[i].
  virtual TaskScores do_score(const std::vector<const std::string*>& answers) const = 0;
  virtual std::vector<fs::path> do_export(const std::vector<const std::string*>& answers, const fs::path& dir) const = 0;
  // After --limit: the adapter drops ground truth of requests no longer present.
  virtual void keep_only(const std::vector<size_t>& kept) { (void)kept; }

  // The metrics.json skeleton every adapter fills: schema, task, fingerprint, skips.
  nlohmann::ordered_json metrics_skeleton() const;
  // `rel` (from a benchmark file) resolved inside the data root; DataError for an
  // absolute path or one that leaves the root. Existence is the caller's check.
  fs::path inside_root(const fs::path& base, std::string_view rel, const std::string& file, long line,
                       const std::string& field) const;
  // A file override from options.files, else `fallback` under the root.
  fs::path file_option(const TaskOptions& options, const std::string& key, const fs::path& fallback) const;
  // Records a bad sample: throws DataError unless options.skip_bad_samples.
  void bad_sample(const TaskOptions& options, Skip skip);
  int max_new_tokens(const TaskOptions& options, int preset_default) const;
  std::string short_answer_suffix(const TaskOptions& options) const;

  fs::path root_;
  bool allow_symlinks_out_ = false;
  std::vector<Request> requests_;
  std::vector<Skip> skipped_;
  std::string fingerprint_;
  nlohmann::ordered_json fingerprint_detail_;
  std::string prompt_asset_label_;  // metrics.json "prompt_asset"
};

const std::vector<std::string>& task_names();  // mme vqav2 coco flickr30k pope
// Throws std::invalid_argument listing the names for an unknown one.
std::unique_ptr<Task> make_task(std::string_view name);

// One samples.jsonl line: the request's id and split, its image (absolute: under
// `data_root`, null without one) and question (the last user turn without the image
// line), the rendered prompt and its sha256, the raw answer, the ground truth, and the
// scoring.
nlohmann::ordered_json sample_record(const Request& request, const fs::path& data_root, std::string_view rendered_prompt,
                                     std::string_view answer, const SampleScore& scored);

// The requests kept by --limit: whole groups in sha256(task/group) order until at
// least `limit` requests, returned as indices in their original order.
std::vector<size_t> limit_by_group(std::string_view task, const std::vector<Request>& requests, int64_t limit);

}  // namespace lnb::tasks
