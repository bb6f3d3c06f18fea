// VQA questions + annotations + results -> reader -> accuracy in all three normalizations.
#include <stdexcept>

#include "fuzz_util.h"
#include "metrics/vqa.h"
#include "tasks/benchmark_files.h"
#include "tasks/data_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = lnb::fuzz::split_parts(data, size, 3);
  const auto q = lnb::fuzz::write_part("q.json", parts[0]);
  const auto a = lnb::fuzz::write_part("a.json", parts[1]);
  const auto r = lnb::fuzz::write_part("r.json", parts[2]);
  try {
    const auto in = lnb::tasks::read_vqa_inputs(q, a, r);
    for (auto norm : {lnb::metrics::VqaNormalization::kOfficial, lnb::metrics::VqaNormalization::kPre2021,
                      lnb::metrics::VqaNormalization::kLlava}) {
      lnb::metrics::VqaAccumulator acc(norm);
      for (size_t i = 0; i < in.questions.size(); ++i) acc.add(static_cast<int64_t>(i), in.questions[i], in.predictions[i]);
      (void)acc.compute();
    }
  } catch (const lnb::tasks::DataError&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
