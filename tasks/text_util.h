// Small text helpers with Python semantics, shared by the adapters (str.strip and
// str.lower are metrics/utf8.h's py_strip and py_lower).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lnb::tasks {

// Replace every occurrence of `from` (non-empty) by `to`, as str.replace.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);
// Lines with Python universal-newline semantics (\r\n and \r read as \n); with
// keep_ends each line keeps its "\n" as readlines() does (the last only if present).
std::vector<std::string> split_lines(std::string_view raw, bool keep_ends = false);
// One line for a tab-separated or line-oriented file: tabs, CR and LF become spaces.
std::string one_line(std::string_view s);

}  // namespace lnb::tasks
