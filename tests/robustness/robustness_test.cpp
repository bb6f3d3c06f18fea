// The hostile-input sweep as a test suite: every case builds a bad input in a fresh
// folder, runs the real lnbench binary on it and asserts
//   - no signal (no crash, no abort, no stack overflow),
//   - the exit code of harness/cli.h (2 bad input, 1 the environment refused),
//   - a message naming the file and the field or tensor, bounded in length, without a
//     c10 backtrace or an uncaught-exception line,
//   - for writers, that finished results are intact and no temporary file is left.
// Cases marked `torch` need the LibTorch plugin and the HF oracle's tiny models
// (tests/model/hf_oracle.py); without them they skip. Categories follow issue 22:
// bounded readers, configs, identity, numbers, paths, writers, nothing-empty, cli.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/reports/store_fixture.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- helpers ------------------------------------------------------------------------

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

std::string deep_array(int n = 100000) { return std::string(n, '[') + std::string(n, ']'); }
std::string deep_object(int n = 100000) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "{\"a\":";
  return s + "1" + std::string(n, '}');
}

json read_json(const fs::path& p) { return json::parse(slurp(p)); }
void edit_json(const fs::path& p, const std::function<void(json&)>& f) {
  json j = read_json(p);
  f(j);
  write(p, j.dump(2));
}

fs::path hf_fixtures() { return fs::path(LNB_BINARY_DIR) / "hf_fixtures"; }
bool have_torch_fixtures() {
#if LNB_HAS_TORCH_PLUGIN
  return fs::exists(hf_fixtures() / "hf336" / "model.safetensors");
#else
  return false;
#endif
}

// A private copy of the tiny llava-hf model (336 px, GQA).
fs::path copy_model(const fs::path& dir, const std::string& name = "m") {
  const fs::path m = dir / name;
  fs::copy(hf_fixtures() / "hf336", m, fs::copy_options::recursive);
  return m;
}

// The checked-in fixture benchmarks with a marker file per image (the score routes
// check that images exist, never decode them).
fs::path copy_tasks(const fs::path& dir) {
  const fs::path root = dir / "data";
  fs::copy(fs::path(LNB_TEST_DATA_DIR) / "tasks" / "fixture", root, fs::copy_options::recursive);
  std::istringstream list(slurp(root / "images.txt"));
  for (std::string line; std::getline(list, line);)
    if (!line.empty()) write(root / line, "image");
  return root;
}
fs::path goldens() { return fs::path(LNB_TEST_DATA_DIR) / "tasks" / "goldens" / "export"; }
std::string pope_labels(const fs::path& dir) { return (copy_tasks(dir) / "pope" / "coco_pope_random.json").string(); }
std::string pope_answers() { return (goldens() / "pope_random_answers.jsonl").string(); }

// The first float32 tensor of a safetensors file whose name contains `part`, its first
// element overwritten with `bits` (a NaN or an infinity), in place.
std::string poison_tensor(const fs::path& file, const std::string& part, uint32_t bits) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  uint64_t n = 0;
  f.read(reinterpret_cast<char*>(&n), 8);
  std::string header(n, '\0');
  f.read(header.data(), static_cast<std::streamsize>(n));
  const json h = json::parse(header);
  for (const auto& [name, t] : h.items()) {
    if (name == "__metadata__" || t["dtype"] != "F32" || name.find(part) == std::string::npos) continue;
    f.seekp(static_cast<std::streamoff>(8 + n + t["data_offsets"][0].get<uint64_t>()));
    f.write(reinterpret_cast<const char*>(&bits), 4);
    return name;
  }
  return "";
}

// A safetensors file with the given float32 tensors (name -> shape, all `value`).
void write_safetensors(const fs::path& file, const std::vector<std::pair<std::string, std::vector<int64_t>>>& tensors,
                       float value) {
  json h = json::object();
  std::string data;
  for (const auto& [name, shape] : tensors) {
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    const size_t begin = data.size();
    for (int64_t i = 0; i < numel; ++i) data.append(reinterpret_cast<const char*>(&value), 4);
    h[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {begin, data.size()}}};
  }
  std::string hs = h.dump();
  while (hs.size() % 8 != 0) hs += ' ';
  const uint64_t n = hs.size();
  std::string bytes(reinterpret_cast<const char*>(&n), 8);
  write(file, bytes + hs + data);
}

// A delta folder as lnbench train writes it: meta.json + model.safetensors (the final
// norm's weight, all ones unless `value` says otherwise).
fs::path write_delta(const fs::path& dir, const std::string& fingerprint, float value = 1.0f,
                     const std::string& strategy = "ln", const std::string& schema = "lnbench.checkpoint/1") {
  const fs::path ck = dir / "ck";
  json meta = {{"schema", schema}, {"strategy", strategy}, {"step", 1},
               {"base_model", {{"path", "/elsewhere/base"}, {"fingerprint", fingerprint}}}};
  write(ck / "meta.json", meta.dump(2));
  const json cfg = read_json(hf_fixtures() / "hf336" / "config.json");
  write_safetensors(ck / "model.safetensors", {{"llm.norm.weight", {cfg["text_config"]["hidden_size"].get<int64_t>()}}}, value);
  return ck;
}

// A base fingerprint no model folder has: the refusal cases see a delta "trained on
// another base", and the --allow-base-mismatch case proves the check is the only obstacle.
const std::string kOtherBase(64, 'a');

// ---- the runner ---------------------------------------------------------------------

struct Outcome {
  bool signaled = false;
  int signal = 0;
  int code = -1;
  std::string out;
};

// `prefix` runs in the shell before lnbench replaces it (exec), e.g. "ulimit -f 8;".
Outcome run_in(const fs::path& dir, const std::string& args, const std::string& prefix = "") {
  const std::string cmd = "cd '" + dir.string() + "' && trap '' XFSZ; " + prefix + " exec " + LNB_EXE + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  Outcome o;
  std::array<char, 4096> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) o.out.append(buf.data(), n);
  const int status = pclose(pipe);
  if (WIFSIGNALED(status)) {
    o.signaled = true;
    o.signal = WTERMSIG(status);
  } else {
    o.code = WEXITSTATUS(status);
    if (o.code > 128) o.signaled = true, o.signal = o.code - 128;  // the shell's report of a signal
  }
  return o;
}

struct Case {
  const char* name;
  const char* category;
  bool torch;
  std::function<std::string(const fs::path& dir)> setup;  // builds the input, returns the arguments
  int code;
  std::vector<std::string> says;  // the message must name these (file, field, tensor)
  std::function<void(const fs::path& dir, const Outcome& o)> after = nullptr;  // results intact, ...
  std::string prefix = "";
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.category << "/" << c.name; }

std::vector<std::string> leftover_tmp(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp") != std::string::npos) out.push_back(e.path().string());
  return out;
}

// ---- the cases ----------------------------------------------------------------------

// `score task pope` answers ({"id", "answer"}) for every request of the random split,
// listed by lnbench itself; returns the file.
fs::path pope_task_answers(const fs::path& dir, const fs::path& pope_root) {
  const Outcome listed = run_in(dir, "score task pope --data " + pope_root.string() + " --split random --requests");
  std::istringstream in(listed.out);
  std::string answers;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') answers += json{{"id", json::parse(line)["id"]}, {"answer", "Yes"}}.dump() + "\n";
  write(dir / "task_answers.jsonl", answers);
  return dir / "task_answers.jsonl";
}

std::string score_pope_with(const fs::path& dir, const std::string& labels_text, const std::string& answers_text) {
  std::string labels = pope_labels(dir), answers = pope_answers();
  if (!labels_text.empty()) write(labels = (dir / "labels.jsonl").string(), labels_text);
  if (!answers_text.empty()) write(answers = (dir / "answers.jsonl").string(), answers_text);
  return "score pope --labels " + labels + " --answers " + answers;
}

// A results store of `runs` nights under DIR/store (tests/reports/store_fixture.h).
void write_store(const fs::path& dir, int runs, int samples) {
  lnb::reports::test::FixtureOptions o;
  o.n_runs = runs, o.n_samples = samples;
  lnb::reports::test::write_store(dir / "store", o);
}

// A run config of one model and one task; `edit` changes it.
std::string run_config(const fs::path& dir, const std::function<void(json&)>& edit) {
  json cfg = {{"run_id", "night"}, {"results", (dir / "results").string()}, {"strategies", {"base"}},
              {"models", {{"tiny", {{"path", (dir / "m").string()}}}}},
              {"tasks", {{"pope", {{"data", (dir / "data" / "pope").string()}}}}}};
  edit(cfg);
  write(dir / "cfg.json", cfg.dump(2));
  return "run cfg.json --print-config";
}

std::string generate_on(const fs::path& model, const std::string& extra = "") {
  return "generate --model " + model.string() + " --prompt hi --max-new-tokens 2 " + extra;
}

std::vector<Case> cases() {
  std::vector<Case> c;
  // ---- bounded readers: depth limits, bounded quotes ----
  c.push_back({"run_config_deep_array", "bounded", true, [](const fs::path& d) {
                 write(d / "deep.json", deep_array());
                 return std::string("run deep.json --print-config");
               }, 2, {"deep.json", "nested"}});
  c.push_back({"run_config_deep_object", "bounded", true, [](const fs::path& d) {
                 write(d / "deep.json", deep_object());
                 return std::string("run deep.json --print-config");
               }, 2, {"deep.json", "nested"}});
  c.push_back({"run_config_huge_string_value", "bounded", true, [](const fs::path& d) {
                 write(d / "cfg.json", json{{"seed", std::string(1 << 20, 'x')}}.dump());
                 return std::string("run cfg.json --print-config");
               }, 2, {"cfg.json", "seed"}});
  c.push_back({"run_config_number_overflow", "bounded", true, [](const fs::path& d) {
                 write(d / "cfg.json", "{\"seed\": 1e400}");
                 return std::string("run cfg.json --print-config");
               }, 2, {"cfg.json"}});
  c.push_back({"model_config_deep", "bounded", true, [](const fs::path& d) {
                 const fs::path m = copy_model(d);
                 write(m / "config.json", deep_array());
                 return generate_on(m);
               }, 2, {"config.json", "nested"}});
  c.push_back({"preprocessor_config_deep", "bounded", true, [](const fs::path& d) {
                 const fs::path m = copy_model(d);
                 write(m / "preprocessor_config.json", deep_object());
                 return generate_on(m);
               }, 2, {"preprocessor_config.json", "nested"}});
  c.push_back({"shard_index_deep", "bounded", true, [](const fs::path& d) {
                 const fs::path m = copy_model(d);
                 fs::rename(m / "model.safetensors", m / "model-00001-of-00001.safetensors");
                 write(m / "model.safetensors.index.json", deep_array());
                 return generate_on(m);
               }, 2, {"model.safetensors.index.json", "nested"}});
  c.push_back({"safetensors_header_deep", "bounded", true, [](const fs::path& d) {
                 const fs::path m = copy_model(d);
                 std::string h = deep_array(5000);
                 const uint64_t n = h.size();
                 write(m / "model.safetensors", std::string(reinterpret_cast<const char*>(&n), 8) + h);
                 return generate_on(m);
               }, 2, {"model.safetensors", "nested"}});
  c.push_back({"checkpoint_meta_deep", "bounded", true, [](const fs::path& d) {
                 const fs::path m = copy_model(d);
                 const fs::path ck = write_delta(d, kOtherBase);
                 write(ck / "meta.json", deep_object());
                 return generate_on(m, "--checkpoint " + ck.string());
               }, 2, {"meta.json", "nested"}});
  c.push_back({"train_data_deep", "bounded", true, [](const fs::path& d) {
                 const fs::path m = copy_model(d);
                 write(d / "train.json", deep_array());
                 return "train --model " + m.string() + " --data train.json --images . --strategy ln --out out --quiet";
               }, 2, {"train.json", "nested"}});
  c.push_back({"pope_labels_deep", "bounded", false, [](const fs::path& d) { return score_pope_with(d, deep_array(), ""); },
               2, {"labels.jsonl", "nested"}});
  c.push_back({"pope_answers_deep", "bounded", false, [](const fs::path& d) { return score_pope_with(d, "", deep_object()); },
               2, {"answers.jsonl", "nested"}});
  c.push_back({"vqa_results_deep", "bounded", false, [](const fs::path& d) {
                 const fs::path data = copy_tasks(d);
                 write(d / "results.json", deep_array());
                 return "score vqav2 --questions " + (data / "vqav2/v2_OpenEnded_mscoco_val2014_questions.json").string() +
                        " --annotations " + (data / "vqav2/v2_mscoco_val2014_annotations.json").string() + " --results results.json";
               }, 2, {"results.json", "nested"}});
  c.push_back({"caption_results_deep", "bounded", false, [](const fs::path& d) {
                 write(d / "results.json", deep_array());
                 return "score caption --annotations " + (goldens() / "coco_test_annotations.json").string() +
                        " --results results.json";
               }, 2, {"results.json", "deep"}});
  c.push_back({"score_task_answers_deep", "bounded", false, [](const fs::path& d) {
                 const fs::path data = copy_tasks(d);
                 write(d / "answers.jsonl", deep_array() + "\n");
                 return "score task pope --data " + (data / "pope").string() + " --answers answers.jsonl";
               }, 2, {"answers.jsonl", "nested"}});
  c.push_back({"report_run_json_deep", "bounded", false, [](const fs::path& d) {
                 write_store(d, 1, 4);
                 write(d / "store" / "night-0000" / "run.json", deep_object());
                 return std::string("report store --out rep");
               }, 2, {"run.json", "nested"}});
  c.push_back({"report_samples_deep_line", "bounded", false, [](const fs::path& d) {
                 write_store(d, 2, 4);  // two nights: the report pairs their samples
                 write(d / "store" / "night-0001" / "tiny-llava" / "ln" / "pope" / "samples.jsonl", deep_array() + "\n");
                 return std::string("report store --out rep");
               }, 2, {"samples.jsonl", "nested"}});
  c.push_back({"report_metrics_huge_field", "bounded", false, [](const fs::path& d) {
                 write_store(d, 1, 0);
                 write(d / "store" / "night-0000" / "tiny-llava" / "ln" / "pope" / "metrics.json",
                       json{{"schema", std::string(1 << 20, 's')}}.dump());
                 return std::string("report store --out rep");
               }, 2, {"metrics.json", "schema"}});

  // ---- configs: type and range before allocation; what lnbench does not implement ----
  auto model_edit = [](std::function<void(json&)> f, const char* file = "config.json") {
    return [f, file](const fs::path& d) {
      const fs::path m = copy_model(d);
      edit_json(m / file, f);
      return generate_on(m);
    };
  };
  c.push_back({"config_layers_1e9", "config", true,
               model_edit([](json& j) { j["text_config"]["num_hidden_layers"] = 1000000000; }), 2,
               {"config.json", "text_config.num_hidden_layers"}});
  c.push_back({"config_text_config_string", "config", true, model_edit([](json& j) { j["text_config"] = "llama"; }), 2,
               {"config.json", "text_config", "an object"}});
  c.push_back({"config_vocab_1e12", "config", true,
               model_edit([](json& j) { j["text_config"]["vocab_size"] = 1000000000000LL; }), 2,
               {"config.json", "text_config.vocab_size"}});
  c.push_back({"config_vocab_disagrees_with_tensors", "config", true,
               model_edit([](json& j) { j["text_config"]["vocab_size"] = 4000; }), 2, {"model.safetensors", "embed_tokens"}});
  c.push_back({"config_layers_disagree_with_tensors", "config", true,
               model_edit([](json& j) { j["text_config"]["num_hidden_layers"] = 7; }), 2, {"lacks", "layers"}});
  c.push_back({"config_heads_negative", "config", true,
               model_edit([](json& j) { j["text_config"]["num_attention_heads"] = -4; }), 2,
               {"config.json", "text_config.num_attention_heads"}});
  c.push_back({"config_feature_layer_string", "config", true,
               model_edit([](json& j) { j["vision_feature_layer"] = "-2"; }), 2, {"config.json", "vision_feature_layer"}});
  c.push_back({"config_image_token_string", "config", true,
               model_edit([](json& j) { j["image_token_index"] = "image"; }), 2, {"config.json", "image_token_index"}});
  c.push_back({"config_select_strategy_full", "config", true,
               model_edit([](json& j) { j["vision_feature_select_strategy"] = "full"; }), 2,
               {"config.json", "vision_feature_select_strategy"}});
  c.push_back({"config_activation_gelu", "config", true,
               model_edit([](json& j) { j["text_config"]["hidden_act"] = "gelu"; }), 2, {"config.json", "text_config.hidden_act"}});
  c.push_back({"config_tie_flag_string", "config", true,
               model_edit([](json& j) { j["text_config"]["tie_word_embeddings"] = "no"; }), 2,
               {"config.json", "text_config.tie_word_embeddings"}});
  c.push_back({"config_rope_type_linear", "config", true,
               model_edit([](json& j) { j["text_config"]["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 2.0}}; }), 2,
               {"config.json", "rope_parameters.rope_type"}});
  c.push_back({"config_rope_theta_negative", "config", true,
               model_edit([](json& j) { j["text_config"]["rope_theta"] = -1.0; }), 2, {"config.json", "rope_theta"}});
  c.push_back({"config_model_type_number", "config", true, model_edit([](json& j) { j["model_type"] = 7; }), 2,
               {"config.json", "model_type"}});
  c.push_back({"config_missing", "config", true, [](const fs::path& d) {
                 const fs::path m = copy_model(d);
                 fs::remove(m / "config.json");
                 return generate_on(m);
               }, 2, {"config.json"}});
  c.push_back({"config_is_a_directory", "config", true, [](const fs::path& d) {
                 const fs::path m = copy_model(d);
                 fs::remove(m / "config.json");
                 fs::create_directories(m / "config.json");
                 return generate_on(m);
               }, 2, {"config.json"}});
  c.push_back({"preprocessor_resample_bilinear", "config", true,
               model_edit([](json& j) { j["resample"] = 2; }, "preprocessor_config.json"), 2,
               {"preprocessor_config.json", "resample"}});
  c.push_back({"preprocessor_no_normalize", "config", true,
               model_edit([](json& j) { j["do_normalize"] = false; }, "preprocessor_config.json"), 2,
               {"preprocessor_config.json", "do_normalize"}});
  c.push_back({"preprocessor_mean_two_values", "config", true,
               model_edit([](json& j) { j["image_mean"] = {0.5, 0.5}; }, "preprocessor_config.json"), 2,
               {"preprocessor_config.json", "image_mean"}});

  // ---- identity: a delta records its base ----
  c.push_back({"delta_for_another_base", "identity", true, [](const fs::path& d) {
                 return generate_on(copy_model(d), "--checkpoint " + write_delta(d, kOtherBase).string());
               }, 2, {"meta.json", "base_model.fingerprint", "another base model", "--allow-base-mismatch"}});
  c.push_back({"delta_for_another_base_allowed", "identity", true, [](const fs::path& d) {
                 return generate_on(copy_model(d), "--allow-base-mismatch --json --checkpoint " + write_delta(d, kOtherBase).string());
               }, 0, {"\"text\""}});
  c.push_back({"merge_another_base", "identity", true, [](const fs::path& d) {
                 return "merge --model " + copy_model(d).string() + " --checkpoint " + write_delta(d, kOtherBase).string() +
                        " --out merged";
               }, 2, {"meta.json", "base_model.fingerprint"}});
  c.push_back({"meta_wrong_schema", "identity", true, [](const fs::path& d) {
                 return generate_on(copy_model(d), "--checkpoint " + write_delta(d, kOtherBase, 1, "ln", "lnbench.checkpoint/9").string());
               }, 2, {"meta.json", "schema"}});
  c.push_back({"meta_unknown_strategy", "identity", true, [](const fs::path& d) {
                 return generate_on(copy_model(d), "--checkpoint " + write_delta(d, kOtherBase, 1, "magic").string());
               }, 2, {"meta.json", "strategy", "magic"}});
  c.push_back({"meta_without_fingerprint", "identity", true, [](const fs::path& d) {
                 const fs::path ck = write_delta(d, kOtherBase);
                 edit_json(ck / "meta.json", [](json& j) { j.erase("base_model"); });
                 return generate_on(copy_model(d), "--checkpoint " + ck.string());
               }, 2, {"meta.json", "base_model.fingerprint"}});

  // ---- numbers: non-finite weights ----
  c.push_back({"weights_nan", "numbers", true, [](const fs::path& d) {
                 const fs::path m = copy_model(d);
                 const std::string t = poison_tensor(m / "model.safetensors", "norm", 0x7fc00000u);
                 write(d / "tensor.txt", t);
                 return generate_on(m);
               }, 2, {"model.safetensors", "non-finite"}, [](const fs::path& d, const Outcome& o) {
                 EXPECT_NE(o.out.find(slurp(d / "tensor.txt")), std::string::npos) << "the message names the tensor";
               }});
  c.push_back({"weights_inf_in_vision_tower", "numbers", true, [](const fs::path& d) {
                 const fs::path m = copy_model(d);
                 poison_tensor(m / "model.safetensors", "vision", 0x7f800000u);
                 return generate_on(m);
               }, 2, {"model.safetensors", "non-finite"}});
  c.push_back({"delta_nan", "numbers", true, [](const fs::path& d) {
                 return generate_on(copy_model(d), "--allow-base-mismatch --checkpoint " +
                                                       write_delta(d, kOtherBase, std::nanf("")).string());
               }, 2, {"model.safetensors", "llm.norm.weight", "non-finite"}});

  // ---- paths ----
  c.push_back({"run_id_dotdot", "paths", true, [](const fs::path& d) {
                 return run_config(d, [](json& j) { j["run_id"] = "../escape"; });
               }, 2, {"run_id", "../escape"}});
  c.push_back({"run_id_with_slash", "paths", true, [](const fs::path& d) {
                 return run_config(d, [](json& j) { j["run_id"] = "a/b"; });
               }, 2, {"run_id"}});
  c.push_back({"run_id_absolute_by_flag", "paths", true, [](const fs::path& d) {
                 return run_config(d, [](json&) {}) + " --run-id /tmp/lnb-escape";
               }, 2, {"run_id"}});
  c.push_back({"model_name_with_slash", "paths", true, [](const fs::path& d) {
                 return run_config(d, [](json& j) { j["models"] = {{"a/b", {{"path", "m"}}}}; });
               }, 2, {"models", "a/b"}});
  c.push_back({"model_name_dotdot", "paths", true, [](const fs::path& d) {
                 return run_config(d, [](json& j) { j["models"] = {{"..", {{"path", "m"}}}}; });
               }, 2, {"models", ".."}});
  c.push_back({"strategy_name_path", "paths", true, [](const fs::path& d) {
                 return run_config(d, [](json& j) { j["strategies"] = {"../ln"}; });
               }, 2, {"strategies", "../ln"}});
  // Strategies and their injection options: refused before anything trains.
  c.push_back({"strategy_combination_twice", "config", true, [](const fs::path& d) {
                 return run_config(d, [](json& j) { j["strategies"] = {"base", "ln+prefix+ln"}; });
               }, 2, {"strategies", "names 'ln' twice"}});
  c.push_back({"adapter_reduction_does_not_divide", "config", true, [](const fs::path& d) {
                 copy_model(d);
                 return run_config(d, [](json& j) {
                   j["strategies"] = {"adapter+ln"};
                   j["train"] = {{"adapter_reduction", 48}};
                 });
               }, 2, {"train.adapter_reduction", "divides the hidden size", "got 48"}});
  c.push_back({"prefix_longer_than_the_context", "config", true, [](const fs::path& d) {
                 copy_model(d);
                 return run_config(d, [](json& j) {
                   j["strategies"] = {"mam"};
                   j["train"] = {{"prefix_length", 100000}};
                 });
               }, 2, {"train.prefix_length", "virtual tokens", "got 100000"}});
  c.push_back({"train_adapter_placement_unknown", "config", true, [](const fs::path& d) {
                 const fs::path m = copy_model(d);
                 write(d / "train.json", "[]");
                 return "train --model " + m.string() +
                        " --data train.json --images . --strategy adapter --adapter-placement middle --out out --quiet";
               }, 2, {"--adapter-placement", "middle"}});
  // One POPE image replaced by a symlink to a file outside the data root.
  auto symlinked_image = [](const fs::path& d) {
    const fs::path data = copy_tasks(d);
    write(d / "outside.jpg", "image");
    const fs::path img = data / "pope" / "val2014" / "COCO_val2014_000000310196.jpg";
    fs::remove(img);
    fs::create_symlink(d / "outside.jpg", img);
    return "score task pope --data " + (data / "pope").string() + " --requests";
  };
  c.push_back({"image_symlink_out_of_root", "paths", false, symlinked_image, 2,
               {"COCO_val2014_000000310196.jpg", "symlink", "--allow-symlinks-out"}});
  c.push_back({"image_symlink_out_of_root_allowed", "paths", false,
               [symlinked_image](const fs::path& d) { return symlinked_image(d) + " --allow-symlinks-out"; }, 0,
               {"COCO_val2014_000000310196"}});
  c.push_back({"shard_index_outside_folder", "paths", true, [](const fs::path& d) {
                 const fs::path m = copy_model(d);
                 fs::rename(m / "model.safetensors", d / "stolen.safetensors");
                 json map = json::object();
                 map["language_model.lm_head.weight"] = "../stolen.safetensors";
                 write(m / "model.safetensors.index.json", json{{"weight_map", map}}.dump());
                 return generate_on(m);
               }, 2, {"model.safetensors.index.json", "../stolen.safetensors"}});

  // ---- writers: one checked atomic writer ----
  c.push_back({"score_task_out_disk_full", "writers", false, [](const fs::path& d) {
                 const fs::path data = copy_tasks(d);
                 return "score task pope --data " + (data / "pope").string() + " --answers " +
                        pope_task_answers(d, data / "pope").string() + " --split random --out out";
               }, 1, {"out/", "File too large"}, [](const fs::path& d, const Outcome&) {
                 EXPECT_TRUE(leftover_tmp(d / "out").empty());
                 if (fs::exists(d / "out" / "metrics.json")) {
                   EXPECT_GT(fs::file_size(d / "out" / "metrics.json"), 0u);
                 }
               }, "ulimit -f 1;"});
  c.push_back({"score_task_out_disk_full_keeps_old_results", "writers", false, [](const fs::path& d) {
                 write(d / "out" / "metrics.json", "{\"finished\": true}\n");
                 write(d / "out" / "samples.jsonl", "{\"id\": \"old\"}\n");
                 const fs::path data = copy_tasks(d);
                 return "score task pope --data " + (data / "pope").string() + " --answers " +
                        pope_task_answers(d, data / "pope").string() + " --split random --out out";
               }, 1, {"File too large"}, [](const fs::path& d, const Outcome&) {
                 EXPECT_EQ(slurp(d / "out" / "metrics.json"), "{\"finished\": true}\n");
                 EXPECT_TRUE(leftover_tmp(d / "out").empty());
               }, "ulimit -f 1;"});
  c.push_back({"score_task_out_target_is_directory", "writers", false, [](const fs::path& d) {
                 fs::create_directories(d / "out" / "metrics.json");
                 const fs::path data = copy_tasks(d);
                 return "score task pope --data " + (data / "pope").string() + " --answers " +
                        pope_task_answers(d, data / "pope").string() + " --split random --out out";
               }, 2, {"metrics.json", "directory"}});
  c.push_back({"report_out_disk_full", "writers", false, [](const fs::path& d) {
                 write_store(d, 2, 8);
                 return std::string("report store --out rep");
               }, 1, {"rep/", "File too large"}, [](const fs::path& d, const Outcome&) {
                 if (fs::exists(d / "rep")) {
                   EXPECT_TRUE(leftover_tmp(d / "rep").empty());
                 }
               }, "ulimit -f 1;"});
  c.push_back({"dump_logits_disk_full", "writers", true, [](const fs::path& d) {
                 return generate_on(copy_model(d), "--dump-logits logits.safetensors");
               }, 1, {"logits.safetensors", "File too large"}, [](const fs::path& d, const Outcome&) {
                 EXPECT_FALSE(fs::exists(d / "logits.safetensors"));
                 EXPECT_TRUE(leftover_tmp(d).empty());
               }, "ulimit -f 40;"});

  // ---- nothing empty scored as zero ----
  c.push_back({"pope_answers_empty", "empty", false, [](const fs::path& d) { return score_pope_with(d, "", "\n"); }, 2,
               {"answers.jsonl", "empty"}});
  c.push_back({"pope_labels_empty", "empty", false, [](const fs::path& d) { return score_pope_with(d, "\n", ""); }, 2,
               {"labels.jsonl", "empty"}});
  c.push_back({"pope_answers_directory", "empty", false, [](const fs::path& d) {
                 fs::create_directories(d / "answers");
                 return "score pope --labels " + pope_labels(d) + " --answers answers";
               }, 2, {"answers", "directory"}});
  c.push_back({"pope_duplicate_question_id", "empty", false, [](const fs::path& d) {
                 std::istringstream in(slurp(pope_answers()));
                 std::string first, second;
                 std::getline(in, first), std::getline(in, second);
                 return score_pope_with(d, "", first + "\n" + second + "\n" + first + "\n") + " --join question_id";
               }, 2, {"answers.jsonl:3", "question_id", "again"}});
  c.push_back({"pope_label_neither_yes_nor_no", "empty", false, [](const fs::path& d) {
                 return score_pope_with(d, "{\"question_id\": 1, \"image\": \"a.jpg\", \"text\": \"q\", \"label\": \"maybe\"}\n", "");
               }, 2, {"labels.jsonl:1", "label", "maybe"}});
  c.push_back({"mme_results_missing", "empty", false, [](const fs::path&) { return std::string("score mme --results-dir nope"); },
               2, {"nope", "no such folder"}});
  c.push_back({"mme_results_empty_folder", "empty", false, [](const fs::path& d) {
                 fs::create_directories(d / "results");
                 return std::string("score mme --results-dir results");
               }, 2, {"results", "at least one MME subtask"}});
  c.push_back({"vqa_results_empty_list", "empty", false, [](const fs::path& d) {
                 const fs::path data = copy_tasks(d);
                 write(d / "results.json", "[]");
                 return "score vqav2 --questions " + (data / "vqav2/v2_OpenEnded_mscoco_val2014_questions.json").string() +
                        " --annotations " + (data / "vqav2/v2_mscoco_val2014_annotations.json").string() + " --results results.json";
               }, 2, {"results.json", "question_id"}});
  c.push_back({"caption_results_empty_list", "empty", false, [](const fs::path& d) {
                 write(d / "results.json", "[]");
                 return "score caption --annotations " + (goldens() / "coco_test_annotations.json").string() +
                        " --results results.json";
               }, 2, {"results.json", "empty list"}});
  c.push_back({"caption_annotations_directory", "empty", false, [](const fs::path& d) {
                 fs::create_directories(d / "ann");
                 return "score caption --annotations ann --results " + (goldens() / "coco_test_results.json").string();
               }, 2, {"ann", "directory"}});
  c.push_back({"score_task_answers_empty", "empty", false, [](const fs::path& d) {
                 const fs::path data = copy_tasks(d);
                 write(d / "answers.jsonl", "");
                 return "score task pope --data " + (data / "pope").string() + " --answers answers.jsonl";
               }, 2, {"answers.jsonl", "empty"}});
  c.push_back({"score_task_data_is_a_file", "empty", false, [](const fs::path& d) {
                 write(d / "data.txt", "x");
                 return std::string("score task pope --data data.txt --requests");
               }, 2, {"data.txt"}});
  c.push_back({"run_task_without_data", "empty", true, [](const fs::path& d) {
                 return run_config(d, [](json& j) { j["tasks"]["mme"] = json::object(); });  // beside pope, which has data
               }, 2, {"cfg.json", "tasks.mme.data"}});
  c.push_back({"run_without_tasks", "empty", true, [](const fs::path& d) {
                 return run_config(d, [](json& j) { j["tasks"] = json::object(); });
               }, 2, {"cfg.json", "tasks"}});

  // ---- cli ranges ----
  c.push_back({"generate_max_new_tokens_over_context", "cli", true, [](const fs::path& d) {
                 return "generate --model " + copy_model(d).string() + " --prompt hi --max-new-tokens 1000000";
               }, 2, {"--max-new-tokens", "max_position_embeddings"}});
  c.push_back({"generate_max_new_tokens_negative", "cli", true, [](const fs::path& d) {
                 return "generate --model " + copy_model(d).string() + " --prompt hi --max-new-tokens -5";
               }, 2, {"--max-new-tokens", "-5"}});
  c.push_back({"run_batch_size_zero", "cli", true, [](const fs::path& d) {
                 return run_config(d, [](json&) {}) + " --set eval.batch_size=0";
               }, 2, {"eval.batch_size"}});
  c.push_back({"run_batch_size_1e309", "cli", true, [](const fs::path& d) {
                 return run_config(d, [](json&) {}) + " --set eval.batch_size=1e309";
               }, 2, {"eval.batch_size"}});
  c.push_back({"score_task_limit_negative", "cli", false, [](const fs::path& d) {
                 return "score task pope --data " + (copy_tasks(d) / "pope").string() + " --requests --limit -5";
               }, 2, {"--limit"}});
  c.push_back({"bootstrap_resamples_huge", "cli", false, [](const fs::path& d) {
                 write_store(d, 1, 0);
                 return std::string("report store --out rep --bootstrap-resamples 99999999999999999999");
               }, 2, {"--bootstrap-resamples"}});
  c.push_back({"report_alpha_above_one", "cli", false, [](const fs::path& d) {
                 write_store(d, 1, 0);
                 return std::string("report store --out rep --alpha 2");
               }, 2, {"--alpha"}});
  return c;
}

class Hostile : public ::testing::TestWithParam<Case> {};

TEST_P(Hostile, FailsCleanly) {
  const Case& k = GetParam();
  if (k.torch && !have_torch_fixtures()) GTEST_SKIP() << "needs the LibTorch plugin and the HF oracle's tiny models";
  const fs::path dir = fs::temp_directory_path() / ("lnb_hostile_" + std::to_string(::getpid()) + "_" + k.name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string args = k.setup(dir);
  const Outcome o = run_in(dir, args, k.prefix);
  SCOPED_TRACE(std::string("lnbench ") + args.substr(0, 300) + "\n--- output ---\n" + o.out.substr(0, 3000));
  EXPECT_FALSE(o.signaled) << "killed by signal " << o.signal;
  EXPECT_EQ(o.code, k.code);
  for (const std::string& s : k.says) EXPECT_NE(o.out.find(s), std::string::npos) << "the message should name '" << s << "'";
  if (k.code != 0) {
    EXPECT_LT(o.out.size(), 3000u) << "an error message quotes a bounded excerpt";
    EXPECT_EQ(o.out.find("Exception raised from"), std::string::npos) << "no c10 backtrace";
    EXPECT_EQ(o.out.find("terminate called"), std::string::npos);
    EXPECT_EQ(o.out.find("[json.exception.type_error"), std::string::npos) << "no raw JSON type error";
    EXPECT_EQ(o.out.find("1797693134862315"), std::string::npos) << "no range printed as DBL_MAX's 309 digits";
  }
  if (k.after) k.after(dir, o);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Sweep, Hostile, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.category) + "_" + i.param.name; });

TEST(HostileSweep, CoversEveryCategoryWithAtLeastSixtyCases) {
  std::map<std::string, int> per;
  for (const Case& k : cases()) ++per[k.category];
  EXPECT_GE(cases().size(), 60u);
  for (const char* cat : {"bounded", "config", "identity", "numbers", "paths", "writers", "empty", "cli"})
    EXPECT_GE(per[cat], 3) << cat;
}

}  // namespace
