// Minimal UTF-8 helpers for metrics/: decoding to code points, Python-compatible
// str.strip()/str.lower() for the scripts captions and answers use, and digit tests
// with Python's Unicode \d semantics for the common decimal-digit blocks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lnb::metrics {

// Decodes UTF-8; an invalid byte becomes U+FFFD (one per byte).
std::u32string utf8_decode(std::string_view s);
std::string utf8_encode(std::u32string_view s);
void utf8_append(std::string& out, char32_t cp);

// Python str.isspace() for one code point.
bool py_isspace(char32_t c);
// Python \d in a str pattern: Unicode category Nd (the common blocks).
bool py_isdigit(char32_t c);
// Simple lowercase mapping (Latin, Greek, Cyrillic, Armenian, fullwidth); İ -> "i̇".
void append_lower(std::u32string& out, char32_t c);
std::string py_lower(std::string_view s);
std::string py_strip(std::string_view s);

}  // namespace lnb::metrics
