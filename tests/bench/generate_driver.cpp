// lnbench's side of tests/bench/compare_generate.py: loads a model folder, reads prompts
// (token ids with -200 image slots, one image's pixel values per prompt) from a
// safetensors file, and times greedy generation at the given batch sizes. Prints one JSON
// object: per batch size the tokens of every prompt, prefill/decode seconds and tokens.
// Timing excludes loading; CLIP features are computed inside the timed region.
#include <chrono>
#include <iostream>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include "model/generate.h"
#include "model/loader.h"
#include "model/safetensors.h"

using namespace lnb::model;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: generate_driver MODEL_DIR PROMPTS.safetensors MAX_NEW_TOKENS BATCH [BATCH ...]\n";
    return 2;
  }
  LoadedModel m = load_model(argv[1]);
  SafetensorsFile f(argv[2]);
  std::vector<std::vector<int64_t>> prompts;
  std::vector<at::Tensor> pixels;
  for (int i = 0; f.contains("prompt." + std::to_string(i)); ++i) {
    const at::Tensor p = f.tensor("prompt." + std::to_string(i)).contiguous();
    prompts.emplace_back(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + p.numel());
    pixels.push_back(f.tensor("pixels." + std::to_string(i)));
  }
  GenerationOptions opt;
  opt.max_new_tokens = std::stoll(argv[3]);
  opt.stop_at_eos = false;
  Generator gen(m.model, *m.tokenizer, m.image_token_id, m.pad_id);
  nlohmann::ordered_json out;
  for (int a = 4; a < argc; ++a) {
    const size_t B = std::stoul(argv[a]);
    for (int rep = 0; rep < 2; ++rep) {  // first pass warms up allocator and kernels
      GenerationStats stats;
      std::vector<std::vector<int64_t>> tokens;
      double vision_s = 0;
      const auto t0 = std::chrono::steady_clock::now();
      for (size_t s = 0; s < prompts.size(); s += B) {
        std::vector<GenerationRequest> batch;
        const auto tv = std::chrono::steady_clock::now();
        std::vector<at::Tensor> px(pixels.begin() + s, pixels.begin() + std::min(prompts.size(), s + B));
        at::Tensor feats;
        {
          torch::NoGradGuard ng;
          feats = m.model->vision_features(at::stack(px));  // (b, Np, Dv)
        }
        vision_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - tv).count();
        for (size_t i = s; i < std::min(prompts.size(), s + B); ++i)
          batch.push_back({prompts[i], feats.narrow(0, static_cast<int64_t>(i - s), 1)});
        for (auto& r : gen.generate(batch, opt, &stats)) tokens.push_back(r.tokens);
      }
      const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (rep == 1)
        out[std::to_string(B)] = {{"tokens", tokens}, {"total_seconds", total}, {"vision_seconds", vision_s},
                                  {"prefill_seconds", stats.prefill_seconds}, {"decode_seconds", stats.decode_seconds},
                                  {"prefill_tokens", stats.prefill_tokens}, {"decode_tokens", stats.decode_tokens}};
    }
  }
  out["threads"] = at::get_num_threads();
  std::cout << out.dump() << "\n";
  return 0;
}
