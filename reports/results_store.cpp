// See results_store.h.
#include "reports/results_store.h"

#include "common/json_io.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <tuple>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace lnb::reports {
namespace {

using nlohmann::json;

json read_json(const fs::path& path) {
  try {
    return common::read_json(path.string());  // bounded depth; a directory or empty file is an error
  } catch (const std::exception& e) {
    throw StoreError(e.what());
  }
}

void check_schema(const json& j, const fs::path& path, const std::string& expected_prefix) {
  if (!j.is_object() || !j.contains("schema") || !j["schema"].is_string())
    throw StoreError(path.string() + ": field 'schema': expected \"" + expected_prefix + "1\", got none");
  const std::string s = j["schema"].get<std::string>();
  if (s.rfind(expected_prefix, 0) != 0 || s.substr(expected_prefix.size()) != "1")
    throw StoreError(path.string() + ": field 'schema': expected \"" + expected_prefix + "1\", got " +
                     common::json_excerpt(j["schema"]));
}

std::string str(const json& j, const char* k) {
  return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
}

std::optional<double> num(const json& j, const char* k, const fs::path& path) {
  if (!j.contains(k) || j[k].is_null()) return std::nullopt;
  if (!j[k].is_number()) throw StoreError(path.string() + ": field '" + k + "': expected a number, got " + common::json_excerpt(j[k]));
  return j[k].get<double>();
}

std::map<std::string, std::optional<double>> numbers(const json& obj, const fs::path& path, const std::string& where) {
  std::map<std::string, std::optional<double>> out;
  if (!obj.is_object()) throw StoreError(path.string() + ": field '" + where + "': expected an object");
  for (const auto& [k, v] : obj.items()) {
    if (v.is_null()) out[k] = std::nullopt;
    else if (v.is_number()) out[k] = v.get<double>();
    else throw StoreError(path.string() + ": field '" + where + "." + k + "': expected a number or null, got " + common::json_excerpt(v));
  }
  return out;
}

// {"name": [lo, hi] | null}; anything else is an error naming the field.
std::map<std::string, Range> ranges(const json& obj, const fs::path& path, const std::string& where) {
  std::map<std::string, Range> out;
  if (!obj.is_object()) throw StoreError(path.string() + ": field '" + where + "': expected an object");
  for (const auto& [k, v] : obj.items()) {
    if (v.is_null()) continue;
    if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number() || v[0].get<double>() > v[1].get<double>())
      throw StoreError(path.string() + ": field '" + where + "." + k + "': expected [lo, hi] with lo <= hi or null, got " +
                       common::json_excerpt(v));
    out[k] = {v[0].get<double>(), v[1].get<double>()};
  }
  return out;
}

TaskResult read_task(const fs::path& dir) {
  const fs::path path = dir / "metrics.json";
  const json j = read_json(path);
  check_schema(j, path, "lnbench.metrics/");
  TaskResult t;
  t.dir = dir;
  t.task = str(j, "task");
  if (t.task.empty()) t.task = dir.filename().string();
  if (j.contains("values")) t.values = numbers(j["values"], path, "values");
  if (j.contains("splits") && j["splits"].is_object())
    for (const auto& [split, v] : j["splits"].items()) t.splits[split] = numbers(v, path, "splits." + split);
  if (j.contains("intervals")) {
    const json& iv = j["intervals"];
    if (!iv.is_object()) throw StoreError(path.string() + ": field 'intervals': expected an object, got " + common::json_excerpt(iv));
    if (iv.contains("values")) t.value_intervals = ranges(iv["values"], path, "intervals.values");
    if (iv.contains("splits") && iv["splits"].is_object())
      for (const auto& [split, v] : iv["splits"].items()) t.split_intervals[split] = ranges(v, path, "intervals.splits." + split);
    t.interval_method = str(iv, "method");
  }
  if (j.contains("definitions") && j["definitions"].is_object())
    for (const auto& [k, v] : j["definitions"].items()) t.definitions[k] = v.is_string() ? v.get<std::string>() : v.dump();
  t.prompt_asset = str(j, "prompt_asset");
  t.fingerprint = str(j, "fingerprint");
  t.unparseable_rate = num(j, "unparseable_rate", path);
  if (j.contains("eval") && j["eval"].is_object()) {
    t.samples_per_s = num(j["eval"], "samples_per_s", path);
    t.peak_eval_memory_bytes = num(j["eval"], "peak_eval_memory_bytes", path);
  }
  // lnbench run keeps throughput and memory out of metrics.json (which must not depend on
  // timing or world size) in eval.json beside it.
  const fs::path eval = dir / "eval.json";
  if (fs::exists(eval)) {
    const json e = read_json(eval);
    check_schema(e, eval, "lnbench.eval/");
    if (const auto v = num(e, "samples_per_s", eval)) t.samples_per_s = v;
    if (const auto v = num(e, "peak_eval_memory_bytes", eval)) t.peak_eval_memory_bytes = v;
  }
  return t;
}

Cell read_cell(const fs::path& dir, const std::string& model, const std::string& strategy) {
  Cell c;
  c.model = model;
  c.strategy = strategy;
  const fs::path train = dir / "train.json";
  if (fs::exists(train)) {
    const json j = read_json(train);
    check_schema(j, train, "lnbench.train/");
    c.trainable_params = num(j, "trainable_params", train);
    c.total_params = num(j, "total_params", train);
    c.optimizer_state_bytes = num(j, "optimizer_state_bytes", train);
    c.peak_train_memory_bytes = num(j, "peak_train_memory_bytes", train);
    c.checkpoint_bytes = num(j, "checkpoint_bytes", train);
    c.train_seconds = num(j, "train_seconds", train);
  }
  // A checkpoint trained elsewhere (run config checkpoints.NAME): what it holds.
  const fs::path external = dir / "checkpoint.json";
  if (!fs::exists(train) && fs::exists(external)) {
    const json j = read_json(external);
    check_schema(j, external, "lnbench.external/");
    c.trainable_params = num(j, "trainable_params", external);
    c.total_params = num(j, "total_params", external);
    c.source = str(j, "kind");
  }
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && fs::exists(e.path() / "metrics.json")) {
      TaskResult t = read_task(e.path());
      c.tasks[t.task] = std::move(t);
    }
  return c;
}

}  // namespace

std::vector<Run> read_store(const fs::path& root) {
  if (!fs::is_directory(root)) throw StoreError(root.string() + ": not a folder (expected a results store root)");
  std::vector<Run> runs;
  for (const auto& e : fs::directory_iterator(root)) {
    const fs::path run_json = e.path() / "run.json";
    if (!e.is_directory() || !fs::exists(run_json)) continue;
    const json j = read_json(run_json);
    check_schema(j, run_json, "lnbench.run/");
    Run r;
    r.run_id = str(j, "run_id");
    if (r.run_id.empty()) r.run_id = e.path().filename().string();
    r.date = str(j, "date");
    r.git_sha = str(j, "git_sha");
    r.protocol = str(j, "protocol");
    for (const auto& m : fs::directory_iterator(e.path())) {
      if (!m.is_directory()) continue;
      for (const auto& s : fs::directory_iterator(m.path()))
        if (s.is_directory()) r.cells.push_back(read_cell(s.path(), m.path().filename().string(), s.path().filename().string()));
    }
    std::sort(r.cells.begin(), r.cells.end(), [](const Cell& a, const Cell& b) {
      return std::tie(a.model, a.strategy) < std::tie(b.model, b.strategy);
    });
    runs.push_back(std::move(r));
  }
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return std::tie(a.date, a.run_id) < std::tie(b.date, b.run_id); });
  return runs;
}

namespace {
template <class V>
std::optional<V> find_in(const std::map<std::string, V>& whole, const std::map<std::string, std::map<std::string, V>>& per_split,
                         const std::string& split, const std::string& name) {
  const std::map<std::string, V>* m = &whole;
  if (!split.empty()) {
    const auto s = per_split.find(split);
    if (s == per_split.end()) return std::nullopt;
    m = &s->second;
  }
  const auto v = m->find(name);
  return v == m->end() ? std::nullopt : std::optional<V>(v->second);
}
}  // namespace

std::optional<double> TaskResult::value(const std::string& split, const std::string& name) const {
  const auto v = find_in(values, splits, split, name);
  return v ? *v : std::nullopt;
}

std::optional<Range> TaskResult::interval(const std::string& split, const std::string& name) const {
  return find_in(value_intervals, split_intervals, split, name);
}

std::vector<Sample> read_samples(const TaskResult& task) {
  const fs::path path = task.dir / "samples.jsonl";
  std::vector<Sample> out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  std::string line;
  long n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j;
    try {
      j = common::parse_json(line, path.string(), n);
    } catch (const std::exception& e) {
      throw StoreError(e.what());
    }
    Sample s;
    if (!j.contains("id")) throw StoreError(path.string() + ":" + std::to_string(n) + ": field 'id': expected a string, got none");
    s.id = j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
    s.split = str(j, "split");
    s.image = str(j, "image");
    s.question = str(j, "question");
    if (j.contains("reference")) s.reference = reference_text(j["reference"]);
    s.prompt = str(j, "prompt");
    s.answer = str(j, "answer");
    s.parsed = str(j, "parsed");
    s.score = num(j, "score", path);
    if (j.contains("correct") && j["correct"].is_boolean()) s.correct = j["correct"].get<bool>();
    out.push_back(std::move(s));
  }
  return out;
}

bool SampleKey::operator<(const SampleKey& o) const {
  return std::tie(model, strategy, task) < std::tie(o.model, o.strategy, o.task);
}

RunSamples read_run_samples(const Run& run) {
  RunSamples out;
  for (const Cell& c : run.cells)
    for (const auto& [task, result] : c.tasks) out[{c.model, c.strategy, task}] = read_samples(result);
  return out;
}

std::string reference_text(const json& reference) {
  if (reference.is_string()) return reference.get<std::string>();
  if (!reference.is_array()) return reference.is_null() ? std::string() : reference.dump();
  // Distinct values in order of count, then of first appearance; a count only where one repeats.
  std::vector<std::pair<std::string, int>> counts;
  for (const json& r : reference) {
    const std::string v = r.is_string() ? r.get<std::string>() : r.dump();
    const auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == v; });
    if (it == counts.end()) counts.emplace_back(v, 1);
    else ++it->second;
  }
  std::stable_sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (const auto& [v, n] : counts) out += (out.empty() ? "" : " \u00b7 ") + v + (n > 1 ? " \u00d7" + std::to_string(n) : "");
  return out;
}

std::vector<PairedTask> pair_samples(const Run& baseline, const RunSamples& current) {
  std::vector<PairedTask> out;
  for (const auto& entry : current) {
    const SampleKey& key = entry.first;  // not a structured binding: clang 14 cannot capture one
    const std::vector<Sample>& cur_samples = entry.second;
    const auto base = std::find_if(baseline.cells.begin(), baseline.cells.end(), [&](const Cell& c) {
      return c.model == key.model && c.strategy == key.strategy;
    });
    if (base == baseline.cells.end()) continue;
    const auto bt = base->tasks.find(key.task);
    if (bt == base->tasks.end()) continue;
    std::unordered_map<std::string, Sample> by_id;
    for (Sample& s : read_samples(bt->second)) by_id.emplace(s.id, std::move(s));
    PairedTask p{key.model, key.strategy, key.task, {}};
    for (const Sample& s : cur_samples) {
      auto it = by_id.find(s.id);
      if (it != by_id.end()) p.pairs.emplace_back(std::move(it->second), s);
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace lnb::reports
