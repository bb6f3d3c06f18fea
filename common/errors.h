// The two error tiers every layer throws for things outside lnbench's control
// (STYLE.md rule 7); internal invariants stay TORCH_CHECK / std::logic_error.
//   InputError        bad external input: a file, a field, what was expected, what was
//                     found, a hint. Exit code 2 (harness/cli.h).
//   EnvironmentError  the machine refused: a disk full, a write or fsync failing, a
//                     device missing. Names the path and errno's text. Exit code 1.
// Both derive from the std types the harness already maps (invalid_argument → 2,
// runtime_error → 1), so a layer that cannot see this header still gets the tier right.
#pragma once

#include <stdexcept>
#include <string>

namespace lnb::common {

struct InputErrorInfo {
  std::string file;
  long line = 0;  // 1-based; 0 when not line-oriented
  std::string field;
  std::string expected;
  std::string got;
  std::string hint;
};

std::string format_input_error(const InputErrorInfo& i);

class InputError : public std::invalid_argument {
 public:
  explicit InputError(InputErrorInfo info) : std::invalid_argument(format_input_error(info)), info_(std::move(info)) {}
  const InputErrorInfo& info() const { return info_; }

 private:
  InputErrorInfo info_;
};

class EnvironmentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "PATH: WHAT: strerror(errno)" as an EnvironmentError.
[[noreturn]] void throw_errno(const std::string& path, const std::string& what, int err);

}  // namespace lnb::common
