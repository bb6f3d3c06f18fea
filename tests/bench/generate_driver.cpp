// lnbench's side of tests/bench/compare_generate.py: loads a model folder, reads prompts
// (token ids with -200 image slots, one image's pixel values per prompt) from a
// safetensors file, and times greedy generation at the given batch sizes. Prints one JSON
// object: per batch size the tokens of every prompt, prefill/decode seconds and tokens.
// Timing excludes loading; CLIP features are computed inside the timed region.
// Per batch size it also counts the ATen ops of one decode step (a RecordFunction
// observer: all dispatched ops, and the top-level ones) for the engine and for the
// reference decoder: ops(N new tokens) - ops(1 new token), over N - 1 steps.
#include <chrono>
#include <functional>
#include <iostream>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <nlohmann/json.hpp>

#include "model/generate.h"
#include "model/loader.h"
#include "model/safetensors.h"

using namespace lnb::model;

namespace {

thread_local int64_t g_depth = 0;
int64_t g_all = 0, g_top = 0;

// Ops dispatched while `run` runs: {all, top-level}.
std::pair<int64_t, int64_t> count_ops(const std::function<void()>& run) {
  g_all = g_top = 0;
  const at::CallbackHandle h = at::addThreadLocalCallback(
      at::RecordFunctionCallback(
          [](const at::RecordFunction&) -> std::unique_ptr<at::ObserverContext> {
            ++g_all;
            if (g_depth++ == 0) ++g_top;
            return nullptr;
          },
          [](const at::RecordFunction&, at::ObserverContext*) { --g_depth; })
          .scopes({at::RecordScope::FUNCTION}));
  run();
  at::removeCallback(h);
  return {g_all, g_top};
}

}  // namespace

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
  // ATen ops per decode step, engine against the reference decoder, on the first prompts.
  for (int a = 4; a < argc; ++a) {
    const size_t B = std::min(prompts.size(), static_cast<size_t>(std::stoul(argv[a])));
    std::vector<GenerationRequest> batch;
    {
      torch::NoGradGuard ng;
      for (size_t i = 0; i < B; ++i) batch.push_back({prompts[i], m.model->vision_features(pixels[i].unsqueeze(0))});
    }
    const int64_t N = std::max<int64_t>(opt.max_new_tokens, 2);
    nlohmann::ordered_json ops;
    for (const bool engine : {true, false}) {
      auto go = [&](int64_t n) {
        GenerationOptions o = opt;
        o.max_new_tokens = n;
        return count_ops([&] { engine ? (void)gen.generate(batch, o) : (void)gen.generate_reference(batch, o); });
      };
      const auto one = go(1), many = go(N);
      ops[engine ? "engine" : "reference"] = {
          {"ops_per_step", static_cast<double>(many.first - one.first) / static_cast<double>(N - 1)},
          {"top_level_ops_per_step", static_cast<double>(many.second - one.second) / static_cast<double>(N - 1)}};
    }
    out[std::to_string(B)]["decode_step_ops"] = ops;
  }
  out["threads"] = at::get_num_threads();
  std::cout << out.dump() << "\n";
  return 0;
}
