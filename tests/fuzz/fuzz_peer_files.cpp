// Peers' answer files -> readers -> the peers' parsers and aggregations: a VLMEvalKit
// prediction file (part 0, read as .tsv and as .json) and an lmms-eval sample log (part 1).
#include <stdexcept>

#include "fuzz_util.h"
#include "tasks/data_error.h"
#include "tasks/peer_answers.h"

namespace {

std::string col(const lnb::tasks::PeerRow& r, const char* name) {
  const auto it = r.cols.find(name);
  return it == r.cols.end() ? std::string() : it->second;
}

void vlmevalkit(const std::filesystem::path& p) {
  try {
    const auto rows = lnb::tasks::read_vlmevalkit_predictions(p);
    std::vector<std::string> answers, extracted, cats, images;
    for (const auto& r : rows) {
      answers.push_back(col(r, "answer"));
      extracted.push_back(lnb::tasks::vlmevalkit_yorn(col(r, "prediction")));
      cats.push_back(col(r, "category"));
      images.push_back(col(r, "image_path"));
    }
    (void)lnb::tasks::vlmevalkit_pope(answers, extracted, cats);
    (void)lnb::tasks::vlmevalkit_mme(cats, images, answers, extracted);
  } catch (const lnb::tasks::DataError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = lnb::fuzz::split_parts(data, size, 2);
  vlmevalkit(lnb::fuzz::write_part("pred.tsv", parts[0]));
  vlmevalkit(lnb::fuzz::write_part("pred.json", parts[0]));
  try {
    const auto records = lnb::tasks::read_lmms_eval_samples(lnb::fuzz::write_part("samples.jsonl", parts[1]));
    std::vector<std::string> labels, responses, cats, images;
    for (const auto& r : records) {
      const auto text = [&](const char* k) {
        const auto it = r.doc.find(k);
        return it != r.doc.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      labels.push_back(text("answer"));
      responses.push_back(r.response);
      cats.push_back(text("category"));
      images.push_back(text("question_id"));
      (void)lnb::tasks::lmms_eval_mme_parse(r.response);
      (void)lnb::tasks::lmms_eval_vqa_accuracy({text("answer"), r.response}, {"yes", "no"}, {1, 2}, r.response);
    }
    (void)lnb::tasks::lmms_eval_pope(labels, responses);
    (void)lnb::tasks::lmms_eval_mme(cats, images, labels, responses);
  } catch (const lnb::tasks::DataError&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
