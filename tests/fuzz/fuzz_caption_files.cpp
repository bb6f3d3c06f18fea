// COCO annotation + results files -> reader -> tokenizer -> all caption metrics.
#include <stdexcept>

#include "fuzz_util.h"
#include "metrics/caption_metrics.h"
#include "metrics/ptb_tokenizer.h"
#include "tasks/benchmark_files.h"
#include "tasks/data_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = lnb::fuzz::split_parts(data, size, 2);
  const auto ann = lnb::fuzz::write_part("ann.json", parts[0]);
  const auto res = lnb::fuzz::write_part("res.json", parts[1]);
  try {
    const auto in = lnb::tasks::read_coco_caption_inputs(ann, res);
    const auto refs = lnb::metrics::coco_tokenize_grouped(in.references);
    const auto cands = lnb::metrics::coco_tokenize(in.candidates);
    lnb::metrics::CaptionAccumulator acc;
    for (size_t i = 0; i < in.image_ids.size(); ++i)
      acc.add(static_cast<int64_t>(i), in.image_ids[i], cands[i], refs[i]);
    (void)acc.compute();
  } catch (const lnb::tasks::DataError&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
