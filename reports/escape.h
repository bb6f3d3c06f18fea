// Escaping for everything reports/ writes from results-store strings (model names,
// captions, answers, prompts). Every string that reaches CSV or HTML goes through
// one of these; nothing from a results tree is ever written raw.
#pragma once

#include <string>
#include <string_view>

namespace lnb::reports {

// HTML text and attribute values: & < > " ' escaped; invalid UTF-8 bytes become
// U+FFFD so a hostile byte sequence cannot smuggle markup past a browser's decoder;
// bidi embedding/override/isolate controls become visible "[U+202E]" markers so a
// string cannot reorder the text around it.
std::string html_escape(std::string_view text);

// One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, with
// quotes doubled. A field that a spreadsheet would run as a formula (leading = + - @,
// tab or CR) gets a leading apostrophe, unless it parses as a number.
std::string csv_field(std::string_view text);

// RFC 4648 base64 with padding (data: URIs in the self-contained pages).
std::string base64(std::string_view bytes);

}  // namespace lnb::reports
