// Caption metrics throughput on a COCO-shaped synthetic set (5 references per image).
// The head-to-head against pycocoevalcap is tests/bench/compare_caption_metrics.py.
#include <benchmark/benchmark.h>

#include <random>

#include "metrics/caption_metrics.h"
#include "metrics/ptb_tokenizer.h"

namespace {

std::vector<std::string> make_captions(size_t n, uint64_t seed) {
  static const char* kWords[] = {"a", "man", "woman", "dog", "cat", "riding", "on", "the", "beach", "with",
                                 "red", "blue", "bike", "standing", "next", "to", "table", "pizza", "two", "people"};
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string c = "A";
    const int len = 6 + static_cast<int>(rng() % 8);
    for (int k = 0; k < len; ++k) (c += ' ') += kWords[rng() % 20];
    c += rng() % 3 ? "." : "";
    out.push_back(c);
  }
  return out;
}

void BM_TokenizeAndScore(benchmark::State& state) {
  const size_t n_images = static_cast<size_t>(state.range(0));
  const auto refs = make_captions(n_images * 5, 1), cands = make_captions(n_images, 2);
  for (auto _ : state) {
    const auto tr = lnb::metrics::coco_tokenize(refs);
    const auto tc = lnb::metrics::coco_tokenize(cands);
    lnb::metrics::CaptionAccumulator acc;
    for (size_t i = 0; i < n_images; ++i)
      acc.add(static_cast<int64_t>(i), std::to_string(i), tc[i], {tr.begin() + static_cast<long>(5 * i), tr.begin() + static_cast<long>(5 * i + 5)});
    benchmark::DoNotOptimize(acc.compute());
  }
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(n_images), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_TokenizeAndScore)->Arg(5000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
