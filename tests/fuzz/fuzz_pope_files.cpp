// POPE labels + answers -> readers -> both parsers -> metrics.
#include <stdexcept>

#include "fuzz_util.h"
#include "metrics/pope.h"
#include "tasks/answer_parsers.h"
#include "tasks/benchmark_files.h"
#include "tasks/data_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = lnb::fuzz::split_parts(data, size, 2);
  const auto l = lnb::fuzz::write_part("labels.jsonl", parts[0]);
  const auto a = lnb::fuzz::write_part("answers.jsonl", parts[1]);
  try {
    const auto labels = lnb::tasks::read_pope_labels(l);
    const auto answers = lnb::tasks::read_pope_answers(a);
    lnb::metrics::PopeAccumulator ref, exact;
    for (size_t i = 0; i < answers.size(); ++i) {
      std::optional<lnb::metrics::YesNo> label;
      if (i < labels.size()) label = labels[i].label == "no" ? lnb::metrics::YesNo::kNo : lnb::metrics::YesNo::kYes;
      ref.add(static_cast<int64_t>(i), label, lnb::tasks::pope_parse_reference(answers[i].text));
      exact.add(static_cast<int64_t>(i), label, lnb::tasks::pope_parse_exact(answers[i].text));
    }
    (void)ref.compute();
    (void)exact.compute();
  } catch (const lnb::tasks::DataError&) {
  }
  return 0;
}
