// Caption metrics throughput on a COCO-shaped synthetic set (5 references per image).
// The head-to-head against pycocoevalcap is tests/bench/compare_caption_metrics.py.
#include <benchmark/benchmark.h>

#include <random>

#include "metrics/caption_metrics.h"
#include "metrics/intervals.h"
#include "metrics/pope.h"
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

// The 95 % intervals metrics.json carries (2000 resamples): a graded mean over N samples
// (VQAv2 val is 214,354 questions; COCO Karpathy test 5000 images) and POPE's three splits
// of N/3 answers with F1 recomputed per resample.
void BM_BootstrapMean(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::mt19937_64 rng(3);
  std::vector<double> v(n);
  for (double& x : v) x = static_cast<double>(rng() % 4) * 30;
  for (auto _ : state) benchmark::DoNotOptimize(lnb::metrics::bootstrap_mean(v, lnb::metrics::BootstrapOptions{}));
  state.counters["samples"] = static_cast<double>(n);
}
BENCHMARK(BM_BootstrapMean)->Arg(5000)->Arg(214354)->Unit(benchmark::kMillisecond);

void BM_PopeIntervals(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::mt19937_64 rng(5);
  std::vector<lnb::metrics::PopeAccumulator> accs(3);
  for (auto& a : accs)
    for (int64_t i = 0; i < n / 3; ++i)
      a.add(i, rng() % 2 ? lnb::metrics::YesNo::kYes : lnb::metrics::YesNo::kNo,
            rng() % 2 ? lnb::metrics::YesNo::kYes : lnb::metrics::YesNo::kNo);
  for (auto _ : state)
    benchmark::DoNotOptimize(lnb::metrics::pope_intervals({&accs[0], &accs[1], &accs[2]}, lnb::metrics::BootstrapOptions{}));
}
BENCHMARK(BM_PopeIntervals)->Arg(9000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
