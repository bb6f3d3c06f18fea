// One MME eval_tool task file -> reader -> parser -> scores.
#include <stdexcept>

#include "fuzz_util.h"
#include "metrics/mme.h"
#include "tasks/answer_parsers.h"
#include "tasks/benchmark_files.h"
#include "tasks/data_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto p = lnb::fuzz::write_part("existence.txt", std::string(reinterpret_cast<const char*>(data), size));
  try {
    const auto lines = lnb::tasks::read_mme_task_file(p);
    lnb::metrics::MmeAccumulator acc;
    for (size_t i = 0; i < lines.size(); ++i)
      acc.add("existence", static_cast<int64_t>(i), lnb::tasks::parse_yes_no_label(lines[i].gt),
              lnb::tasks::mme_parse_response(lines[i].response));
    (void)acc.compute();
  } catch (const lnb::tasks::DataError&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
