// See errors.h.
#include "common/errors.h"

#include <cstring>

namespace lnb::common {

std::string format_input_error(const InputErrorInfo& i) {
  std::string s = i.file;
  if (i.line > 0) s += ":" + std::to_string(i.line);
  if (!i.field.empty()) s += ": field '" + i.field + "'";
  s += ": expected " + i.expected;
  if (!i.got.empty()) s += ", got " + i.got;
  if (!i.hint.empty()) s += " (hint: " + i.hint + ")";
  return s;
}

void throw_errno(const std::string& path, const std::string& what, int err) {
  throw EnvironmentError(path + ": " + what + ": " + std::strerror(err));
}

}  // namespace lnb::common
