// Bounded JSON: every reader of external JSON parses through here, so a document
// nested 100 000 levels deep is an error before nlohmann's recursive copy, dump or
// destruction can overflow the stack, and a message quotes a bounded excerpt of the
// offending value instead of serializing it whole.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lnb::common {

// Deeper than any benchmark file, config or store file lnbench reads (they nest ≤ 6).
inline constexpr int kMaxJsonDepth = 64;

// Byte offset where `text` first nests deeper than `max_depth` arrays/objects, or npos.
// Strings (with their escapes) are skipped; the text need not be valid JSON.
size_t json_depth_violation(std::string_view text, int max_depth = kMaxJsonDepth);

// Parses `text` from `source` (a file name, "FILE:LINE", "--set x"). Throws InputError
// naming the source: invalid JSON (nlohmann's message), too deep, a number out of range.
nlohmann::json parse_json(std::string_view text, const std::string& source, long line = 0,
                          int max_depth = kMaxJsonDepth);

// read_file + parse_json; a directory or an empty file is an InputError too.
nlohmann::json read_json(const std::string& path);

// The value's type and at most `max_chars` of its text, e.g. `string "abc…"`,
// `array [1, 2, …] (1000 elements)`. Never serializes more than it prints.
std::string json_excerpt(const nlohmann::json& j, size_t max_chars = 60);

}  // namespace lnb::common
