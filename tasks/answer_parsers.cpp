// See answer_parsers.h.
#include "tasks/answer_parsers.h"

#include <string>

#include "metrics/utf8.h"

namespace lnb::tasks {

YesNo pope_parse_reference(std::string_view answer) {
  std::string text(answer);
  if (const size_t dot = text.find('.'); dot != std::string::npos) text.resize(dot);
  std::string no_commas;
  for (char c : text)
    if (c != ',') no_commas += c;
  size_t start = 0;
  while (true) {
    const size_t sp = no_commas.find(' ', start);
    const std::string_view word = std::string_view(no_commas).substr(start, sp == std::string::npos ? sp : sp - start);
    if (word == "No" || word == "not" || word == "no") return YesNo::kNo;
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  return YesNo::kYes;
}

YesNo pope_parse_exact(std::string_view answer) {
  const std::string t = metrics::py_strip(metrics::py_lower(answer));
  if (t == "yes") return YesNo::kYes;
  if (t == "no") return YesNo::kNo;
  return YesNo::kUnparseable;
}

YesNo mme_parse_response(std::string_view response_with_newline) {
  const std::string r = metrics::py_lower(response_with_newline);
  if (r == "yes") return YesNo::kYes;
  if (r == "no") return YesNo::kNo;
  // Python slices code points: r[:4].
  const std::u32string u = metrics::utf8_decode(r);
  const std::string window = metrics::utf8_encode(std::u32string_view(u).substr(0, 4));
  if (window.find("yes") != std::string::npos) return YesNo::kYes;
  if (window.find("no") != std::string::npos) return YesNo::kNo;
  return YesNo::kUnparseable;
}

YesNo parse_yes_no_label(std::string_view label) {
  const std::string t = metrics::py_lower(label);
  if (t == "yes") return YesNo::kYes;
  if (t == "no") return YesNo::kNo;
  return YesNo::kUnparseable;
}

}  // namespace lnb::tasks
