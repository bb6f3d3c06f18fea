#include "harness/run_config.h"

#include <algorithm>
#include <set>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

#include "common/json_io.h"
#include "common/file_io.h"
#include "tasks/task.h"

namespace lnb::harness {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {
OptionSpec opt(std::string key, OptionKind kind, nlohmann::json fallback, std::string help, bool required = false,
               std::vector<std::string> choices = {}, double min = -1e300, double max = 1e300) {
  return OptionSpec{std::move(key), kind, std::move(fallback), std::move(help), required, std::move(choices), min, max};
}
}  // namespace

const std::vector<OptionSpec>& run_options() {
  using K = OptionKind;
  static const std::vector<OptionSpec> options = {
      opt("run_id", K::kString, "run", "Results go to RESULTS/RUN_ID; rerunning the same id resumes it"),
      opt("results", K::kPath, "results", "Results root (the store reports/ reads)"),
      opt("reuse_answers", K::kBool, true,
          "Take a task's answers from an earlier night in this store made by the same lnbench build under the same "
          "answers key (model, delta, template, batch size, task files, engine settings) instead of decoding them "
          "again: a night where nothing changed redoes nothing"),
      opt("protocol", K::kString, "llava15", "Evaluation protocol preset", false, {"llava15"}),
      opt("seed", K::kInt, 42, "Seed of training (init, shuffling, dropout)", false, {}, 0),
      opt("train.seeds", K::kList, json::array(),
          "Train each strategy once per seed: the first seed's cell keeps the strategy's name, the others are "
          "'<strategy>~seed<N>' (the report shows the spread across seeds); empty = 'seed' only"),
      opt("strategies", K::kList, json::array({"base"}),
       "Strategies to train and evaluate; 'base' evaluates the model as loaded"),
      opt("device", K::kString, "cpu", "cpu | cuda | cuda:N (under torchrun: cuda:LOCAL_RANK)"),
      opt("dtype", K::kString, "fp32", "Weights and compute", false, {"fp32", "bf16", "fp16"}),
      opt("tf32", K::kBool, false, "Allow TF32 matmuls on CUDA"),
      opt("models.*.path", K::kPath, nullptr, "Model folder (llava-hf, original LLaVA or LLaMA)", true),
      opt("models.*.vision_tower", K::kPath, "", "CLIP folder for original LLaVA"),
      opt("models.*.template", K::kString, "vicuna_v1", "Chat template (vicuna_v0: the LayerNorm authors' evaluation template)",
          false, {"vicuna_v1", "llava_llama_2", "plain", "vicuna_v0"}),
      opt("checkpoints.*.path", K::kPath, nullptr,
          "A checkpoint trained elsewhere, evaluated as the strategy NAME: a PEFT adapter folder (LoRA, LN_TUNING, PREFIX_TUNING), "
          "a LLaVA LoRA folder (adapter_model.* + non_lora_trainables.bin), a full fine-tuned HF checkpoint, or an "
          "lnbench checkpoint", true),
      opt("checkpoints.*.model", K::kString, "", "The models entry it applies to ('' = every model)"),
      opt("tasks.*.data", K::kPath, nullptr, "The benchmark's official files (data root)", true),
      opt("tasks.*.split", K::kString, "", "Split ('' = the task's default)"),
      opt("tasks.*.limit", K::kInt, 0, "Evaluate at least this many requests, whole images (0 = all)", false, {}, 0),
      opt("tasks.*.max_new_tokens", K::kInt, 0, "Generation budget (0 = the task's default)", false, {}, 0),
      opt("tasks.*.allow_symlinks_out", K::kBool, false,
          "Follow symlinks that leave the data root (refused by default: a benchmark's files live inside it)"),
      opt("train.data", K::kPath, "", "LLaVA instruction JSON (needed when a strategy trains)"),
      opt("train.images", K::kPath, "", "Folder the training samples' image paths are relative to"),
      opt("train.init_checkpoint", K::kPath, "", "A checkpoint applied before training (e.g. the stage-1 connector)"),
      opt("train.template", K::kString, "vicuna_v1", "Training template", false, {"vicuna_v1", "llava_llama_2", "plain"}),
      opt("train.lr", K::kFloat, 2e-5, "Learning rate", false, {}, 0),
      opt("train.strategy_lr", K::kString, "",
          "Per-strategy learning rates overriding train.lr, e.g. 'ln-simple=1e-2,full=3e-4' (the paper tunes each)"),
      opt("train.epochs", K::kInt, 1, "Passes over the training data", false, {}, 1),
      opt("train.max_steps", K::kInt, -1, "Stop after this many optimizer steps (-1 = epochs decide)", false, {}, -1),
      opt("train.batch_size", K::kInt, 4, "Samples per micro-batch per process", false, {}, 1),
      opt("train.grad_accum", K::kInt, 1, "Micro-batches per optimizer step", false, {}, 1),
      opt("train.max_length", K::kInt, 2048, "Tokens per sample after image expansion", false, {}, 1),
      opt("train.warmup_ratio", K::kFloat, 0.03, "Cosine schedule warmup fraction", false, {}, 0),
      opt("train.weight_decay", K::kFloat, 0.0, "AdamW weight decay", false, {}, 0),
      opt("train.lora_rank", K::kInt, 64, "LoRA rank", false, {}, 1),
      opt("train.lora_alpha", K::kFloat, 16.0, "LoRA alpha", false, {}, 0),
      opt("train.lora_dropout", K::kFloat, 0.05, "LoRA dropout", false, {}, 0),
      opt("train.adapter_placement", K::kString, "pfeiffer",
          "Bottleneck adapters (adapter, adapter+ln): after the MLP, after attention and the MLP, or beside the MLP",
          false, {"pfeiffer", "houlsby", "parallel"}),
      opt("train.adapter_reduction", K::kInt, 16, "Adapter bottleneck = hidden size / this (must divide)", false, {}, 1),
      opt("train.adapter_non_linearity", K::kString, "relu", "Adapter non-linearity", false, {"relu", "gelu", "silu", "tanh"}),
      opt("train.adapter_scaling", K::kFloat, 1.0, "Adapter output scaling (mam uses 4)", false, {}, 0),
      opt("train.prefix_length", K::kInt, 30, "Prefix-tuning virtual tokens per layer (prefix, prefix+ln, mam)", false, {}, 1),
      opt("train.prefix_projection", K::kInt, 0,
          "Width of prefix-tuning's reparameterisation MLP while training (0 = none; folded away for evaluation)", false,
          {}, 0),
      opt("train.gradient_checkpointing", K::kBool, false, "Recompute decoder-layer activations in backward"),
      opt("train.checkpoints", K::kPath, "", "Content-addressed checkpoint store ('' = RESULTS/checkpoints)"),
      opt("eval.batch_size", K::kInt, 8, "Requests per generation batch (grouped by image)", false, {}, 1),
      opt("eval.feature_cache", K::kPath, "",
       "Vision-feature cache folder ('' = $XDG_CACHE_HOME or ~/.cache, /lnbench/features; 'off' = none)"),
      opt("eval.batch_check", K::kInt, 4, "Requests re-decoded at batch 1 without prefix sharing per task (batch-invariance check)", false, {}, 0),
      opt("eval.prefix_sharing", K::kBool, true,
          "Compute each shared prompt prefix once (the task's text prefix, each image's prefix) and prefill only each request's own suffix"),
      opt("eval.prefix_cache_mb", K::kInt, 4096,
          "Most MiB of shared-prefix keys/values alive at once; a plan above it shares less (answers stay exact)", false, {}, 1),
      opt("eval.vision_batch", K::kInt, 8, "Images through the vision tower together", false, {}, 1),
      opt("eval.fold_lora", K::kBool, true,
          "Fold a LoRA delta into the weights (and a prefix's reparameterisation MLP into its output) while evaluating (no adapter GEMMs; the base is restored bit-exactly after)"),
      opt("eval.cuda_graphs", K::kString, "auto", "Replay the decode step as a CUDA graph (auto = on for CUDA; greedy steps only)", false,
          {"auto", "on", "off"}),
      opt("eval.temperature", K::kFloat, 0.0,
          "Sampling temperature (0 = greedy). A sampled answer draws from (eval.seed, the request id, the step) alone: "
          "the same at any batch size, on any rank, after a resume", false, {}, 0),
      opt("eval.top_k", K::kInt, 0, "When sampling: only the k most likely tokens (0 = all)", false, {}, 0),
      opt("eval.top_p", K::kFloat, 1.0, "When sampling: only the smallest most-likely set with this mass (1 = all)", false, {},
          1e-6, 1.0),
      opt("eval.seed", K::kInt, 0, "When sampling: the seed of every request's draws", false, {}, 0),
      opt("eval.min_new_tokens", K::kInt, 0, "EOS is not chosen before this many new tokens", false, {}, 0),
  };
  return options;
}

std::string flag_name(const std::string& key) {
  std::string f = "--" + key;
  std::replace(f.begin(), f.end(), '.', '-');
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

std::vector<EvalFlag> eval_command_options() {
  std::vector<EvalFlag> out;
  auto dashed = [](std::string s) {
    std::replace(s.begin(), s.end(), '_', '-');
    return "--" + s;
  };
  for (const OptionSpec& s : run_options()) {
    const std::string& k = s.key;
    if (k.rfind("eval.", 0) == 0) out.push_back({dashed(k.substr(5)), &s});
    else if (k.rfind("tasks.*.", 0) == 0 && k != "tasks.*.data") out.push_back({dashed(k.substr(8)), &s});
    else if (k.rfind("models.*.", 0) == 0 && k != "models.*.path") out.push_back({dashed(k.substr(9)), &s});
    else if (k == "device" || k == "dtype") out.push_back({flag_name(k), &s});
  }
  return out;
}

std::string option_help(const OptionSpec& s) {
  std::string help = s.help;
  if (!s.choices.empty()) {
    help += ": ";
    for (size_t i = 0; i < s.choices.size(); ++i) help += (i ? " | " : "") + s.choices[i];
  }
  if (!s.required) help += " (default " + (s.fallback.is_string() ? s.fallback.get<std::string>() : s.fallback.dump()) + ")";
  return help;
}

namespace {

const char* kind_name(OptionKind k) {
  switch (k) {
    case OptionKind::kString: return "a string";
    case OptionKind::kPath: return "a path (string)";
    case OptionKind::kInt: return "an integer";
    case OptionKind::kFloat: return "a number";
    case OptionKind::kBool: return "true or false";
    case OptionKind::kList: return "a list of strings (JSON array or comma-separated)";
  }
  return "?";
}

// The spec of a concrete key ("tasks.pope.limit" -> "tasks.*.limit") and the entry name.
const OptionSpec* find_spec(const std::string& key, std::string* entry) {
  for (const OptionSpec& s : run_options()) {
    const size_t star = s.key.find('*');
    if (star == std::string::npos) {
      if (s.key == key) return &s;
      continue;
    }
    const std::string prefix = s.key.substr(0, star), suffix = s.key.substr(star + 1);
    if (key.size() > prefix.size() + suffix.size() && key.compare(0, prefix.size(), prefix) == 0 &&
        key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
      const std::string name = key.substr(prefix.size(), key.size() - prefix.size() - suffix.size());
      if (name.find('.') != std::string::npos) continue;
      if (entry) *entry = name;
      return &s;
    }
  }
  return nullptr;
}

std::string known_keys() {
  std::string out;
  for (const OptionSpec& s : run_options()) out += (out.empty() ? "" : ", ") + s.key;
  return out;
}

std::string show(const json& v) {
  std::string s = v.dump();
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

[[noreturn]] void fail(const std::string& origin, const std::string& key, const std::string& expected, const std::string& found) {
  throw ConfigError(origin + ": '" + key + "': expected " + expected + ", found " + found);
}

// A value from the file or from --set, checked against its spec and normalized.
json check_value(const OptionSpec& s, const std::string& key, const json& v, const std::string& origin,
                 const fs::path& base_dir) {
  json out;
  switch (s.kind) {
    case OptionKind::kString:
    case OptionKind::kPath:
      if (!v.is_string()) fail(origin, key, kind_name(s.kind), show(v));
      out = v;
      break;
    case OptionKind::kInt:
      if (!v.is_number_integer()) fail(origin, key, kind_name(s.kind), show(v));
      out = v;
      break;
    case OptionKind::kFloat:
      if (!v.is_number() || !std::isfinite(v.get<double>())) fail(origin, key, kind_name(s.kind), show(v));
      out = v.get<double>();
      break;
    case OptionKind::kBool:
      if (!v.is_boolean()) fail(origin, key, kind_name(s.kind), show(v));
      out = v;
      break;
    case OptionKind::kList:
      if (!v.is_array()) fail(origin, key, kind_name(s.kind), show(v));
      for (const json& item : v)
        if (!item.is_string() || item.get<std::string>().empty()) fail(origin, key, kind_name(s.kind), show(v));
      out = v;
      break;
  }
  if ((s.kind == OptionKind::kInt || s.kind == OptionKind::kFloat) && (out.get<double>() < s.min || out.get<double>() > s.max)) {
    std::ostringstream e;
    if (s.max < 1e300) e << "a value in [" << s.min << ", " << s.max << "]";
    else e << "a value >= " << s.min;
    fail(origin, key, e.str(), show(v));
  }
  if (!s.choices.empty() && std::find(s.choices.begin(), s.choices.end(), out.get<std::string>()) == s.choices.end()) {
    std::string list;
    for (const std::string& c : s.choices) list += (list.empty() ? "" : " | ") + c;
    fail(origin, key, "one of " + list, show(v));
  }
  if (s.kind == OptionKind::kPath) {
    const std::string p = out.get<std::string>();
    if (!p.empty() && p != "off" && fs::path(p).is_relative()) out = (base_dir / p).lexically_normal().string();
  }
  return out;
}

// "--set key=value": the text parsed as the key's kind.
json parse_override(const OptionSpec& s, const std::string& key, const std::string& text, const std::string& origin) {
  switch (s.kind) {
    case OptionKind::kString:
    case OptionKind::kPath:
      return text;
    case OptionKind::kBool:
      if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
      if (text == "false" || text == "0" || text == "no" || text == "off") return false;
      fail(origin, key, kind_name(s.kind), "'" + text + "'");
    case OptionKind::kInt: {
      char* end = nullptr;
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0') fail(origin, key, kind_name(s.kind), "'" + text + "'");
      return v;
    }
    case OptionKind::kFloat: {
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0') fail(origin, key, kind_name(s.kind), "'" + text + "'");
      return v;
    }
    case OptionKind::kList: {
      json list = json::array();
      std::stringstream in(text);
      for (std::string item; std::getline(in, item, ',');) list.push_back(item);
      return list;
    }
  }
  return nullptr;
}

void flatten(const json& j, const std::string& prefix, std::map<std::string, json>& out, const std::string& origin) {
  for (const auto& [k, v] : j.items()) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    std::string entry;
    if (find_spec(key, &entry)) {
      out[key] = v;
    } else if (v.is_object() && (key == "models" || key == "tasks" || key == "checkpoints" || key == "train" || key == "eval" ||
                                 ((prefix == "models" || prefix == "tasks" || prefix == "checkpoints") &&
                                  k.find('.') == std::string::npos))) {
      if (v.empty() && (prefix == "models" || prefix == "tasks" || prefix == "checkpoints"))  // never dropped silently
        fail(origin, key + (prefix == "tasks" ? ".data" : ".path"), "a path (required for every entry)", "an empty entry");
      flatten(v, key, out, origin);
    } else if (key == "schema" || key == "comment" || (!key.empty() && key[0] == '_')) {
      continue;  // documentation fields
    } else {
      throw ConfigError(origin + ": unknown key '" + key + "' (known: " + known_keys() + ")");
    }
  }
}

void set_path(ordered_json& root, const std::string& key, const json& v) {
  ordered_json* node = &root;
  std::stringstream in(key);
  std::vector<std::string> parts;
  for (std::string p; std::getline(in, p, '.');) parts.push_back(p);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!node->contains(parts[i])) (*node)[parts[i]] = ordered_json::object();
    node = &(*node)[parts[i]];
  }
  (*node)[parts.back()] = v;
}

}  // namespace

ordered_json resolve_run_config(const json& file_config, const std::vector<std::string>& overrides, const std::string& origin,
                                const fs::path& base_dir) {
  if (!file_config.is_null() && !file_config.is_object())
    throw ConfigError(origin + ": expected a JSON object at the top, found " + show(file_config));
  std::map<std::string, json> raw;
  if (file_config.is_object()) flatten(file_config, "", raw, origin);
  std::map<std::string, json> values;
  for (const auto& [key, v] : raw) values[key] = check_value(*find_spec(key, nullptr), key, v, origin, base_dir);
  for (const std::string& o : overrides) {
    const size_t eq = o.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError("--set '" + o + "': expected key=value");
    const std::string key = o.substr(0, eq);
    const OptionSpec* s = find_spec(key, nullptr);
    if (!s) throw ConfigError("--set: unknown key '" + key + "' (known: " + known_keys() + ")");
    values[key] = check_value(*s, key, parse_override(*s, key, o.substr(eq + 1), "--set"), "--set", fs::current_path());
  }
  // Entries of the keyed sections, then defaults and required options.
  std::map<std::string, std::vector<std::string>> entries;  // "models" -> names
  for (const auto& [key, v] : values) {
    std::string entry;
    const OptionSpec* s = find_spec(key, &entry);
    if (s->key.find('*') != std::string::npos) {
      auto& names = entries[s->key.substr(0, s->key.find('.'))];
      if (std::find(names.begin(), names.end(), entry) == names.end()) names.push_back(entry);
    }
  }
  for (const std::string& t : entries["tasks"])
    if (std::find(tasks::task_names().begin(), tasks::task_names().end(), t) == tasks::task_names().end()) {
      std::string list;
      for (const std::string& n : tasks::task_names()) list += (list.empty() ? "" : " | ") + n;
      fail(origin, "tasks." + t, "a task name: " + list, "'" + t + "'");
    }
  ordered_json out = ordered_json::object();
  for (const OptionSpec& s : run_options()) {
    const size_t star = s.key.find('*');
    std::vector<std::string> keys;
    if (star == std::string::npos) {
      keys.push_back(s.key);
    } else {
      for (const std::string& name : entries[s.key.substr(0, star - 1)])
        keys.push_back(s.key.substr(0, star) + name + s.key.substr(star + 1));
    }
    for (const std::string& key : keys) {
      const auto it = values.find(key);
      if (it != values.end()) {
        set_path(out, key, it->second);
      } else if (s.required) {
        fail(origin, key, std::string(kind_name(s.kind)) + " (required: " + s.help + ")", "nothing");
      } else {
        set_path(out, key, s.kind == OptionKind::kPath && s.fallback == "results" ? json((base_dir / "results").string())
                                                                                   : s.fallback);
      }
    }
  }
  // Names become folders of the results store: each must be one path component, so
  // nothing is written outside RESULTS (no '/', no '..', not empty).
  auto one_component = [&origin](const std::string& key, const std::string& name) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos || name.size() > 200)
      fail(origin, key, "a single path component (no '/', not '.' or '..', at most 200 characters)",
           "'" + name.substr(0, 80) + "'");
  };
  one_component("run_id", out["run_id"].get<std::string>());
  for (const std::string& m : entries["models"]) one_component("models." + m, m);
  for (const auto& st : out["strategies"]) one_component("strategies", st.get<std::string>());
  // An external checkpoint is a strategy by its entry's name: it must not shadow one.
  for (const std::string& c : entries["checkpoints"]) {
    one_component("checkpoints." + c, c);
    const bool builtin = c == "base";  // the registered strategies' names: check_checkpoint_names (run_command.cpp)
    const bool listed = std::any_of(out["strategies"].begin(), out["strategies"].end(),
                                    [&c](const ordered_json& s) { return s == c; });
    if (builtin || listed)
      fail(origin, "checkpoints." + c, "a name that is not a strategy's (it becomes the checkpoint's strategy column)",
           "'" + c + "', " + (builtin ? "a built-in strategy" : "listed in strategies"));
    const std::string m = out["checkpoints"][c]["model"].get<std::string>();
    if (!m.empty() && std::find(entries["models"].begin(), entries["models"].end(), m) == entries["models"].end())
      fail(origin, "checkpoints." + c + ".model", "'' or a models entry", "'" + m + "'");
  }
  if (entries["models"].empty()) fail(origin, "models", "at least one model (models.NAME.path)", "none");
  if (entries["tasks"].empty()) fail(origin, "tasks", "at least one task (tasks.NAME.data)", "none");
  if (out["strategies"].empty()) fail(origin, "strategies", "at least one strategy", "[]");
  {
    std::set<std::string> seen;
    for (const auto& sd : out["train"]["seeds"]) {
      const std::string v = sd.get<std::string>();
      const bool digits = !v.empty() && v.size() <= 18 && std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); });
      if (!digits) fail(origin, "train.seeds", "non-negative integers", "'" + v.substr(0, 40) + "'");
      if (!seen.insert(std::to_string(std::stoull(v))).second)
        fail(origin, "train.seeds", "each seed once", "'" + v + "' twice");
    }
  }
  try {
    parse_strategy_lr(out["train"]["strategy_lr"].get<std::string>());
  } catch (const std::invalid_argument& e) {
    fail(origin, "train.strategy_lr", "comma-separated STRATEGY=RATE with RATE > 0", e.what());
  }
  return out;
}

std::map<std::string, double> parse_strategy_lr(const std::string& text) {
  std::map<std::string, double> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) throw std::invalid_argument("'" + item + "' (no STRATEGY=)");
    double rate = 0;
    size_t used = 0;
    try {
      rate = std::stod(item.substr(eq + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() - eq - 1 || !(rate > 0))
      throw std::invalid_argument("'" + item + "' (the rate is not a positive number)");
    out[item.substr(0, eq)] = rate;
  }
  return out;
}

std::string options_markdown() {
  std::string out = "| key | flag | kind | default | meaning |\n|---|---|---|---|---|\n";
  for (const OptionSpec& s : run_options()) {
    std::string help = s.help;
    if (!s.choices.empty()) {
      help += " (";
      for (size_t i = 0; i < s.choices.size(); ++i) help += (i ? " | " : "") + s.choices[i];
      help += ")";
    }
    const std::string flag = s.key.find('*') == std::string::npos ? "`" + flag_name(s.key) + "`" : "--set only";
    const std::string def = s.required ? "required" : "`" + s.fallback.dump() + "`";
    out += "| `" + s.key + "` | " + flag + " | " + std::string(kind_name(s.kind)) + " | " + def + " | " + help + " |\n";
  }
  return out;
}

ordered_json load_run_config(const fs::path& file, const std::vector<std::string>& overrides) {
  json j;
  try {
    j = common::read_json(file.string());
  } catch (const std::exception& e) {
    throw ConfigError(e.what());
  }
  return resolve_run_config(j, overrides, file.string(), fs::absolute(file).parent_path());
}

std::vector<MatrixCell> matrix_cells(const nlohmann::ordered_json& cfg) {
  std::vector<uint64_t> seeds;
  for (const auto& s : cfg["train"]["seeds"]) seeds.push_back(std::stoull(s.get<std::string>()));
  if (seeds.empty()) seeds.push_back(cfg["seed"].get<uint64_t>());
  std::vector<MatrixCell> out;
  for (const auto& sj : cfg["strategies"]) {
    const std::string strategy = sj.get<std::string>();
    for (size_t k = 0; k < seeds.size(); ++k) {
      out.push_back({k == 0 ? strategy : strategy + "~seed" + std::to_string(seeds[k]), strategy, seeds[k]});
      if (strategy == "base") break;
    }
  }
  return out;
}

}  // namespace lnb::harness
