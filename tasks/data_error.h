// The typed error for bad external input (STYLE.md rule 7): names the file, the line
// (1-based, 0 when not line-oriented), the field, what was expected, what was found
// and a hint. Thrown by every reader in tasks/; caught per task by the harness.
#pragma once

#include <stdexcept>
#include <string>

namespace lnb::tasks {

struct DataErrorInfo {
  std::string file;
  long line = 0;
  std::string field;
  std::string expected;
  std::string got;
  std::string hint;
};

class DataError : public std::runtime_error {
 public:
  explicit DataError(DataErrorInfo info) : std::runtime_error(format(info)), info_(std::move(info)) {}
  const DataErrorInfo& info() const { return info_; }

  static std::string format(const DataErrorInfo& i) {
    std::string s = i.file;
    if (i.line > 0) s += ":" + std::to_string(i.line);
    if (!i.field.empty()) s += ": field '" + i.field + "'";
    s += ": expected " + i.expected;
    if (!i.got.empty()) s += ", got " + i.got;
    if (!i.hint.empty()) s += " (hint: " + i.hint + ")";
    return s;
  }

 private:
  DataErrorInfo info_;
};

}  // namespace lnb::tasks
