// Shared by the trainer tests: the tiny llava-hf model of tests/model/hf_oracle.py
// (transformers >= 4.52 layout), a small instruction dataset over its images, and a
// runner for tests/training/train_oracle.py.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/model/oracle_fixture.h"
#include "training/trainer.h"

namespace lnb::test {

inline std::filesystem::path tiny_model() {
  std::string err;
  const std::filesystem::path d = hf_fixtures(&err);
  if (!err.empty()) throw std::runtime_error(err);
  return d / "hf336_new";
}

inline std::filesystem::path tiny_images() { return tiny_model().parent_path() / "images"; }

// Eight samples: multi-turn, image and text-only, images named in either place.
inline std::filesystem::path write_tiny_data(const std::filesystem::path& dir) {
  const char* images[] = {"small.png", "tall.png", "wide.png"};
  nlohmann::json data = nlohmann::json::array();
  for (int i = 0; i < 8; ++i) {
    nlohmann::json s = {{"id", "s" + std::to_string(i)}};
    const bool with_image = i % 4 != 3;
    s["conversations"] = {{{"from", "human"}, {"value", with_image ? (i % 2 ? "What shape is in the picture?\n<image>"
                                                                           : "<image>\nWhat shape is in the picture?")
                                                                   : "What is in the image?"}},
                          {{"from", "gpt"}, {"value", i % 2 ? "a red circle and two blue squares" : "three green triangles"}}};
    if (i % 3 == 0)
      s["conversations"].push_back({{"from", "human"}, {"value", "And the colour?"}}),
          s["conversations"].push_back({{"from", "gpt"}, {"value", "there are three green triangles on the left"}});
    if (with_image) s["image"] = images[i % 3];
    data.push_back(s);
  }
  std::filesystem::create_directories(dir);
  const std::filesystem::path f = dir / "data.json";
  std::ofstream(f) << data.dump(1);
  return f;
}

inline training::TrainOptions tiny_options(const std::filesystem::path& dir, const std::string& strategy) {
  training::TrainOptions o;
  o.model_dir = tiny_model();
  o.image_dir = tiny_images();
  o.data_file = write_tiny_data(dir);
  o.out_dir = dir / strategy;
  o.strategy = strategy;
  o.optim.lr = 1e-2;
  o.optim.warmup_ratio = 0;
  o.epochs = 2;
  o.batch_size = 2;
  o.lora.rank = 4;
  o.lora.dropout = 0;
  o.resume = false;
  return o;
}

// Runs train_oracle.py; "" on success, else the command and its log.
inline std::string run_oracle(const std::string& args, const std::filesystem::path& log) {
  const std::string cmd = std::string(LNB_ORACLE_PYTHON) + " " LNB_SOURCE_DIR "/tests/training/train_oracle.py " + args +
                          " > " + log.string() + " 2>&1";
  if (std::system(cmd.c_str()) == 0) return "";
  std::ifstream in(log);
  return cmd + "\n" + std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace lnb::test
