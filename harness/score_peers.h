// `lnbench score TASK --from PEER FILE`: other harnesses' answers (tasks/peer_answers.h),
// scored through lnbench's one route (tasks/scoring.h) and by the peer's own rules, side by
// side with the reasons they differ. Each returns the exit code; bad input throws.
#pragma once

#include <string>

namespace lnb::harness {

// std::invalid_argument unless `peer` is one lnbench reads (lmms-eval, vlmevalkit).
void check_peer(const std::string& peer);
int score_pope_from_lmms_eval(const std::string& file, bool skip_bad, bool as_json);
int score_mme_from_lmms_eval(const std::string& file, bool as_json);
int score_vqa_from_lmms_eval(const std::string& file, bool as_json);
int score_caption_from_lmms_eval(const std::string& file, bool as_json);
int score_pope_from_vlmevalkit(const std::string& file, bool skip_bad, bool as_json);
int score_mme_from_vlmevalkit(const std::string& file, bool as_json);

}  // namespace lnb::harness
