// The measured behaviour of CoreNLP 3.4.1's PTBTokenizer that the scanner in
// ptb_tokenizer.cpp consults: per-code-point classes and output text, abbreviations
// and the contexts in which they keep their period, sentence-start words, Java's
// lowercasing. The data is generated (ptb_tables.inc); this file is its only reader.
// Internal to metrics/.
#pragma once

#include <string>
#include <string_view>

namespace lnb::metrics::ptb {

using U32 = std::u32string;
using U32View = std::u32string_view;

// 'D' deleted (untokenizable), 'L' joins words, 'S' its own token, 'W' whitespace (tab).
char char_class(char32_t c);
// Output text of a code point standing alone where it differs from it (or nullptr).
const char8_t* char_text(char32_t c);
bool is_space(char32_t c);       // token separators within a line
bool is_java_newline(char32_t c);

inline bool ascii_alpha(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool ascii_digit(char32_t c) { return c >= '0' && c <= '9'; }
inline bool ascii_upper(char32_t c) { return c >= 'A' && c <= 'Z'; }
inline char32_t ascii_lower(char32_t c) { return ascii_upper(c) ? c + 32 : c; }
// A character that forms words: letters and digits of any script.
inline bool word_char(char32_t c) {
  if (c < 0x80) return ascii_alpha(c) || ascii_digit(c);
  return char_class(c) == 'L';
}
bool ieq(U32View a, std::string_view b);  // ASCII case-insensitive
std::string to_utf8(U32View s);

// What follows a chunk, as the abbreviation rules see it (the jar looks past the end
// of the line into the next caption). Context bits as in gen_ptb_tables.py.
struct Follow {
  bool end_of_line = false;
  bool digit = false;    // a digit comes next
  bool starter = false;  // a sentence-start word comes next ("The", "A", "In", "Mr.", ...)
  unsigned bit() const {
    if (digit) return 1u << 2;
    if (end_of_line) return starter ? 1u << 4 : 1u << 3;
    return starter ? 1u << 1 : 1u << 0;
  }
};
Follow follow_of(U32View rest, U32View next_line);

// Whether "w." keeps its period in context bit `ctx` (single letters, acronyms such
// as u.s / Ph.D, and the measured abbreviation list).
bool ptb_keeps_period(U32View w, unsigned ctx);

// Java's toLowerCase(Locale.ENGLISH) on one output token, in place.
void lower_token(std::string& t);

}  // namespace lnb::metrics::ptb
