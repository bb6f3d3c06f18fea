// Writes synthetic results stores for the report tests and the scale benchmark, in the
// layout of docs/results_store.md. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lnb::reports::test {

namespace fs = std::filesystem;
using nlohmann::json;

inline void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

struct FixtureOptions {
  int n_runs = 2;
  std::vector<std::string> strategies = {"connector", "ln", "ln-simple", "lora", "full"};
  std::vector<std::string> tasks = {"mme", "vqav2", "coco", "flickr30k", "pope"};
  int n_samples = 200;           // per task (0: no samples.jsonl)
  int samples_last_runs = 1 << 30;  // write samples.jsonl only for the last N runs
  double regress_last = 0.0;     // share of correct answers the last run loses (planted regression)
  std::string model = "tiny-llava";
  bool intervals = false;        // metrics.json "intervals": value +- 10 (mme), +- 0.05 (others)
  bool twin_of_last = false;     // the last strategy answers exactly as the one before it
  std::string hostile;           // appended to every free-form string when non-empty
  // samples.jsonl also names an image (one of `images_per_task` PNG-signed files under
  // ROOT/images, each asked about by several samples), a question and a reference;
  // image 0 of each task is larger than reports::kMaxEmbeddedImageBytes.
  int images_per_task = 0;
  uint64_t seed = 7;
};

// A valid 2x2 red PNG (zlib-compressed, CRCs right); the fixture's images are it with
// bytes after IEND, which decoders ignore, so each file differs.
inline constexpr char kTinyPng[] =
    "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00"
    "\x00\xfd\xd4\x9a\x73\x00\x00\x00\x10\x49\x44\x41\x54\x78\x9c\x63\x38\xa1\xa1\x01\x44\x0c\x10\x0a\x00\x21\x2e"
    "\x04\x61\x1e\xe0\x6d\xc2\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

inline void write_store(const fs::path& root, const FixtureOptions& o) {
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int r = 0; r < o.n_runs; ++r) {
    char id[32];
    std::snprintf(id, sizeof id, "night-%04d", r);
    char date[32];
    std::snprintf(date, sizeof date, "%04d-%02d-%02dT02:00:00Z", 2025 + r / 336, 1 + (r / 28) % 12, 1 + r % 28);
    const fs::path run = root / id;
    write(run / "run.json", json{{"schema", "lnbench.run/1"}, {"run_id", id}, {"date", std::string(date) + o.hostile},
                                 {"git_sha", "abc123" + o.hostile}, {"protocol", "llava15"}}.dump());
    const bool last = r == o.n_runs - 1;
    for (size_t s = 0; s < o.strategies.size(); ++s) {
      const fs::path cell = run / o.model / o.strategies[s];
      const double trainable = 1e4 * std::pow(10.0, static_cast<double>(s));
      write(cell / "train.json", json{{"schema", "lnbench.train/1"}, {"trainable_params", trainable},
                                      {"total_params", 7e9}, {"optimizer_state_bytes", 8 * trainable},
                                      {"peak_train_memory_bytes", 1e9 + 1e3 * trainable}, {"checkpoint_bytes", 4 * trainable},
                                      {"train_seconds", 100.0 + static_cast<double>(s)}}.dump());
      for (const std::string& task : o.tasks) {
        const double q = 0.5 + 0.08 * static_cast<double>(s) + 0.01 * u(rng);
        json values, splits;
        if (task == "mme") values = {{"perception", 2000 * q}, {"cognition", 800 * q * 0.5}};
        else if (task == "vqav2") values = {{"accuracy", 100 * q}};
        else if (task == "pope") {
          values = {{"f1_mean", q}};
          splits = {{"random", {{"f1", q}}}, {"popular", {{"f1", q - 0.01}}}, {"adversarial", {{"f1", q - 0.02}}}};
        } else values = {{"cider", q * 1.2}};
        json m = {{"schema", "lnbench.metrics/1"}, {"task", task}, {"values", values},
                  {"definitions", {{"parser", "pope-reference" + o.hostile}, {"scale", "x1"}}},
                  {"prompt_asset", "Describe the image." + o.hostile}, {"fingerprint", "fp-" + task},
                  {"unparseable_rate", 0.01}, {"eval", {{"samples_per_s", 50.0}, {"peak_eval_memory_bytes", 2e9}}}};
        if (!splits.is_null()) m["splits"] = splits;
        if (o.intervals) {
          const double h = task == "mme" ? 10 : 0.05;
          json iv = {{"method", "fixture"}, {"values", json::object()}, {"splits", json::object()}};
          for (const auto& [k, v] : values.items()) iv["values"][k] = {v.get<double>() - h, v.get<double>() + h};
          for (const auto& [sp, vals] : splits.items())
            for (const auto& [k, v] : vals.items()) iv["splits"][sp][k] = {v.get<double>() - h, v.get<double>() + h};
          m["intervals"] = iv;
        }
        write(cell / task / "metrics.json", m.dump());
        if (o.n_samples == 0 || r < o.n_runs - o.samples_last_runs) continue;
        std::string lines;
        const size_t as = o.twin_of_last && s + 1 == o.strategies.size() && s > 0 ? s - 1 : s;
        std::mt19937_64 srng(o.seed * 1000 + as * 10 + task.size());  // same answers every night...
        for (int i = 0; i < o.n_samples; ++i) {
          bool correct = u(srng) < 0.5 + 0.08 * static_cast<double>(as);  // night-independent
          if (last && correct && u(rng) < o.regress_last) correct = false;  // ...but the planted regression
          const std::string answer = correct ? "Yes" : "No";
          json line = {{"id", task + "-" + std::to_string(i)}, {"prompt", "Is there a dog?" + o.hostile},
                       {"answer", answer + o.hostile}, {"parsed", answer + o.hostile},
                       {"correct", correct}, {"score", correct ? 1.0 : 0.0}};
          if (o.images_per_task > 0) {
            const int k = i % o.images_per_task;
            const fs::path image = root / "images" / (task + "-" + std::to_string(k) + ".png");
            if (!fs::exists(image))
              write(image, std::string(kTinyPng, sizeof kTinyPng - 1) + std::string(k == 0 ? 40000 : static_cast<size_t>(k), '\0'));
            line["image"] = image.string();
            line["question"] = "Is there a dog in picture " + std::to_string(k) + "?" + o.hostile;
            line["reference"] = std::vector<std::string>{"yes", "yes", "no" + o.hostile};
          }
          lines += line.dump() + "\n";
        }
        write(cell / task / "samples.jsonl", lines);
      }
    }
  }
}

}  // namespace lnb::reports::test
