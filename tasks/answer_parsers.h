// Turning a model's free text into the label a benchmark scores (STYLE.md rule 8:
// parsing lives in tasks/, metrics/ only counts). Each parser is a pinned,
// named definition that reports print.
#pragma once

#include <string_view>

#include "metrics/pope.h"  // YesNo

namespace lnb::tasks {

using metrics::YesNo;

// POPE's reference parser (AoiDragon/POPE evaluate.py, LLaVA eval_pope.py): text
// before the first '.', commas removed, split on single spaces, "No"/"not"/"no" ->
// no, anything else -> yes. Never unparseable. Name: "pope-reference".
YesNo pope_parse_reference(std::string_view answer);

// Exact match (lmms-eval): lower().strip() must be "yes" or "no", else unparseable.
// Name: "exact".
YesNo pope_parse_exact(std::string_view answer);

// MME eval_tool: the response lowercased *with its trailing newline*; exactly
// "yes"/"no", else the first 4 characters: contains "yes" -> yes, else contains "no"
// -> no, else "other" (unparseable, always wrong).
YesNo mme_parse_response(std::string_view response_with_newline);

// A yes/no ground truth, case-insensitive; unparseable for anything else.
YesNo parse_yes_no_label(std::string_view label);

}  // namespace lnb::tasks
