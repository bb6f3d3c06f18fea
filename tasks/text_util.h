// Small text helpers with Python semantics, shared by the adapters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lnb::tasks {

// str.strip() over ASCII whitespace (what the reference scripts call on answers).
std::string py_strip(std::string_view s);
// Replace every occurrence of `from` (non-empty) by `to`, as str.replace.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);
// Lines with Python universal-newline semantics, without their terminators.
std::vector<std::string> split_lines(std::string_view raw);
// One line for a tab-separated or line-oriented file: tabs, CR and LF become spaces.
std::string one_line(std::string_view s);

}  // namespace lnb::tasks
