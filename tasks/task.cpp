// See task.h: the adapter-independent half of every task (loading protocol, answer
// matching, --limit, path containment, fingerprint, sample records).
#include "tasks/task.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "common/sha256.h"
#include "tasks/data_error.h"

namespace lnb::tasks {

std::unique_ptr<Task> make_mme_task();
std::unique_ptr<Task> make_vqav2_task();
std::unique_ptr<Task> make_caption_task(std::string_view which);  // coco | flickr30k
std::unique_ptr<Task> make_pope_task();

using nlohmann::ordered_json;

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> k = {"mme", "vqav2", "coco", "flickr30k", "pope"};
  return k;
}

std::unique_ptr<Task> make_task(std::string_view name) {
  if (name == "mme") return make_mme_task();
  if (name == "vqav2") return make_vqav2_task();
  if (name == "coco" || name == "flickr30k") return make_caption_task(name);
  if (name == "pope") return make_pope_task();
  std::string all;
  for (const auto& n : task_names()) all += (all.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown task '" + std::string(name) + "' (tasks: " + all + ")");
}

std::vector<size_t> limit_by_group(std::string_view task, const std::vector<Request>& requests, int64_t limit) {
  if (limit < 0) throw std::invalid_argument("--limit must be >= 0, got " + std::to_string(limit));
  std::unordered_map<std::string, std::vector<size_t>> members;
  std::vector<std::string> groups;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto [it, fresh] = members.try_emplace(requests[i].group);
    if (fresh) groups.push_back(requests[i].group);
    it->second.push_back(i);
  }
  // The order depends only on the group keys, so a subset is the same whatever the
  // file order, and a larger limit is a superset of a smaller one.
  std::vector<std::pair<std::string, std::string>> keyed;
  keyed.reserve(groups.size());
  for (auto& g : groups) keyed.emplace_back(common::sha256_hex(std::string(task) + "/" + g), std::move(g));
  std::sort(keyed.begin(), keyed.end());
  std::vector<size_t> kept;
  for (const auto& [hash, g] : keyed) {
    if (static_cast<int64_t>(kept.size()) >= limit) break;
    const auto& m = members[g];
    kept.insert(kept.end(), m.begin(), m.end());
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

void Task::load(const fs::path& data_root, const TaskOptions& options) {
  if (!fs::is_directory(data_root))
    throw DataError({data_root.string(), 0, "", "a data directory", "no such directory", "pass the benchmark's folder"});
  root_ = fs::weakly_canonical(fs::absolute(data_root));
  allow_symlinks_out_ = options.allow_symlinks_out;
  requests_.clear();
  skipped_.clear();
  LoadInfo info = do_load(options);
  if (options.limit) {
    const std::vector<size_t> kept = limit_by_group(name(), requests_, *options.limit);
    std::vector<Request> subset;
    subset.reserve(kept.size());
    for (size_t i : kept) subset.push_back(std::move(requests_[i]));
    requests_ = std::move(subset);
    keep_only(kept);
  }
  ordered_json files = ordered_json::array();
  for (const fs::path& f : info.data_files) {
    const common::FileDigest d = common::sha256_file(f);
    const fs::path rel = f.lexically_relative(root_);
    const bool inside = !rel.empty() && *rel.begin() != "..";
    files.push_back({{"name", inside ? rel.generic_string() : f.filename().string()}, {"sha256", d.sha256}, {"bytes", d.bytes}});
  }
  fingerprint_detail_ = {{"task", name()},
                         {"adapter", info.metric_version},
                         {"split", options.split},
                         {"limit", options.limit ? ordered_json(*options.limit) : ordered_json(nullptr)},
                         {"n_requests", requests_.size()},
                         {"n_skipped", skipped_.size()},
                         {"files", files},
                         {"prompt", info.prompt}};
  fingerprint_ = "sha256:" + common::sha256_hex(fingerprint_detail_.dump());
  prompt_asset_label_ = info.prompt.contains("asset") ? info.prompt["asset"].get<std::string>() : "";
}

namespace {
std::vector<const std::string*> match_answers(const std::vector<Request>& requests, const std::vector<Answer>& answers) {
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = 0; i < requests.size(); ++i) index.emplace(requests[i].id, i);
  std::vector<const std::string*> out(requests.size(), nullptr);
  for (size_t k = 0; k < answers.size(); ++k) {
    const auto it = index.find(answers[k].id);
    if (it == index.end())
      throw DataError({"answers", static_cast<long>(k + 1), "id", "an id of the loaded requests", answers[k].id,
                       "were the answers produced with the same split and --limit?"});
    if (out[it->second] != nullptr)
      throw DataError({"answers", static_cast<long>(k + 1), "id", "one answer per request", "a second answer for " + answers[k].id, ""});
    out[it->second] = &answers[k].text;
  }
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i] == nullptr)
      throw DataError({"answers", 0, "id", "an answer for every request",
                       "none for " + requests[i].id + " (" + std::to_string(requests.size() - answers.size()) + " missing)", ""});
  return out;
}
}  // namespace

TaskScores Task::score(const std::vector<Answer>& answers) const { return do_score(match_answers(requests_, answers)); }

std::vector<fs::path> Task::export_submission(const std::vector<Answer>& answers, const fs::path& dir) const {
  fs::create_directories(dir);
  return do_export(match_answers(requests_, answers), dir);
}

ordered_json Task::metrics_skeleton() const {
  ordered_json skipped = ordered_json::array();
  for (size_t i = 0; i < skipped_.size() && i < 20; ++i)
    skipped.push_back({{"file", skipped_[i].file}, {"line", skipped_[i].line}, {"reason", skipped_[i].reason}});
  return {{"schema", "lnbench.metrics/1"},
          {"task", name()},
          {"n_samples", requests_.size()},
          {"values", ordered_json::object()},
          {"splits", ordered_json::object()},
          {"definitions", ordered_json::object()},
          {"prompt_asset", prompt_asset_label_},
          {"fingerprint", fingerprint_},
          {"fingerprint_detail", fingerprint_detail_},
          {"skipped", {{"count", skipped_.size()}, {"first", skipped}}},
          {"unparseable_rate", 0.0}};
}

fs::path Task::inside_root(const fs::path& base, std::string_view rel, const std::string& file, long line,
                           const std::string& field) const {
  const fs::path p(rel);
  if (rel.empty() || p.is_absolute() || p.has_root_name())
    throw DataError({file, line, field, "a path relative to the data root", "'" + std::string(rel) + "'",
                     "benchmark files name images relative to their folder"});
  const fs::path joined = (base / p).lexically_normal();
  const fs::path back = joined.lexically_relative(root_);
  if (back.empty() || *back.begin() == "..")
    throw DataError({file, line, field, "a path inside the data root " + root_.string(), "'" + std::string(rel) + "'",
                     "'..' may not leave the benchmark folder"});
  if (!allow_symlinks_out_) {
    // A symlink may point anywhere: resolve it and ask again (the root is canonical).
    std::error_code ec;
    const fs::path real = fs::weakly_canonical(joined, ec);
    const fs::path real_back = ec ? fs::path() : real.lexically_relative(root_);
    if (!ec && (real_back.empty() || *real_back.begin() == ".."))
      throw DataError({file, line, field, "a file inside the data root " + root_.string(),
                       "'" + std::string(rel) + "', a symlink to " + real.string() + " outside it",
                       "copy the file in, or pass --allow-symlinks-out (tasks.*.allow_symlinks_out in a run config)"});
  }
  return joined;
}

fs::path Task::file_option(const TaskOptions& options, const std::string& key, const fs::path& fallback) const {
  const auto it = options.files.find(key);
  if (it == options.files.end()) return root_ / fallback;
  const fs::path p(it->second);
  return p.is_absolute() ? p : root_ / p;
}

void Task::bad_sample(const TaskOptions& options, Skip skip) {
  if (!options.skip_bad_samples)
    throw DataError({skip.file, skip.line, "", "a usable sample", skip.reason, "--skip-bad-samples counts it instead"});
  skipped_.push_back(std::move(skip));
}

int Task::max_new_tokens(const TaskOptions& options, int preset_default) const {
  const int n = options.max_new_tokens.value_or(preset_default);
  if (n < 1) throw std::invalid_argument("max_new_tokens must be >= 1, got " + std::to_string(n));
  return n;
}

std::string Task::short_answer_suffix(const TaskOptions& options) const {
  return options.short_answer_suffix.value_or(std::string(kShortAnswerSuffix));
}

ordered_json sample_record(const Request& request, const fs::path& data_root, std::string_view rendered_prompt,
                           std::string_view answer, const SampleScore& scored) {
  std::string question = request.turns.empty() ? std::string() : request.turns.back().user;
  for (const std::string_view form : {"<image>\n", "\n<image>", "<image>"})
    if (const size_t at = question.find(form); at != std::string::npos) {
      question.erase(at, form.size());
      break;
    }
  ordered_json j = {{"id", request.id},
                    {"split", request.split},
                    {"image", request.image.empty() ? ordered_json(nullptr) : ordered_json((data_root / request.image).string())},
                    {"question", question},
                    {"prompt", rendered_prompt},
                    {"prompt_sha256", common::sha256_hex(rendered_prompt)},
                    {"answer", answer},
                    {"parsed", scored.parsed},
                    {"reference", scored.reference}};
  if (scored.score) j["score"] = *scored.score;
  if (scored.correct) j["correct"] = *scored.correct;
  for (const auto& [k, v] : scored.extra.items()) j[k] = v;
  return j;
}

}  // namespace lnb::tasks
