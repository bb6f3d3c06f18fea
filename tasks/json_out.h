// JSON text exactly as Python's json.dumps writes it by default (", " and ": "
// separators, ensure_ascii), for submission files that reference scripts produce with
// json.dump; invalid UTF-8 in model output becomes U+FFFD instead of an exception.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lnb::tasks {

std::string py_json_string(std::string_view s);
// Any JSON value with Python's default separators (no indentation).
std::string py_json_dumps(const nlohmann::ordered_json& j);

}  // namespace lnb::tasks
