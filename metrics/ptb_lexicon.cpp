// See ptb_lexicon.h.
#include "metrics/ptb_lexicon.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <unordered_set>

#include "metrics/utf8.h"

namespace lnb::metrics::ptb {
namespace {

struct PtbRange {
  char32_t lo, hi;
  char klass;
};
struct PtbText {
  char32_t cp;
  const char8_t* text;
};
struct PtbAbbrev {
  std::string_view word;
  unsigned contexts;  // bit k: the period stays in context k (see Follow)
};
#include "metrics/ptb_tables.inc"

// One byte per BMP code point, built once from the measured ranges.
const std::array<char, 0x10000>& class_table() {
  static const std::array<char, 0x10000> table = [] {
    std::array<char, 0x10000> t{};
    t.fill('D');
    for (const PtbRange& r : kPtbRanges)
      for (char32_t c = r.lo; c <= r.hi; ++c) t[c] = r.klass;
    for (char32_t c = 0; c < 0x20; ++c) t[c] = 'D';
    t['\t'] = 'W';
    return t;
  }();
  return table;
}

constexpr unsigned kSingleLetterContexts = 0b01101;  // kept unless a sentence start follows

}  // namespace

char char_class(char32_t c) {
  if (c > 0xFFFF || (c >= 0xD800 && c <= 0xDFFF)) return 'D';  // outside the BMP: untokenizable
  return class_table()[c];
}

const char8_t* char_text(char32_t c) {
  const auto* end = std::end(kPtbText);
  const auto* it = std::lower_bound(std::begin(kPtbText), end, c,
                                    [](const PtbText& t, char32_t v) { return t.cp < v; });
  return (it != end && it->cp == c) ? it->text : nullptr;
}

bool is_space(char32_t c) {
  return c == ' ' || c == '\t' || c == 0xA0 || (c >= 0x2000 && c <= 0x200A) || c == 0x3000;
}

bool is_java_newline(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029 || c == 0x0B || c == 0x0C || c == 0x85;
}

bool ieq(U32View a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != static_cast<char32_t>(b[i])) return false;
  return true;
}

std::string to_utf8(U32View s) {
  std::string out(s.size(), '\0');
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] >= 0x80) return utf8_encode(s);  // rare: non-ASCII token
    out[i] = static_cast<char>(s[i]);
  }
  return out;
}

Follow follow_of(U32View rest, U32View next_line) {
  Follow f;
  size_t k = 0;
  while (k < rest.size() && (is_space(rest[k]) || char_class(rest[k]) == 'D')) ++k;
  U32View text = rest.substr(k);
  if (text.empty()) {
    f.end_of_line = true;
    size_t m = 0;
    while (m < next_line.size() && (is_space(next_line[m]) || char_class(next_line[m]) == 'D')) ++m;
    text = next_line.substr(m);
  }
  if (text.empty()) return f;
  f.digit = ascii_digit(text[0]);
  size_t e = 0;
  while (e < text.size() && ascii_alpha(text[e])) ++e;
  if (e > 0) {
    // A starter is a whole word: "The" or "Mr." followed by a space, not "IT'S".
    std::string word = utf8_encode(text.substr(0, e));
    if (e < text.size() && text[e] == '.') word += '.', ++e;
    static const std::unordered_set<std::string_view> kStarters(std::begin(kPtbSentenceStarters),
                                                                 std::end(kPtbSentenceStarters));
    const bool whole = e == text.size() || is_space(text[e]);
    f.starter = whole && kStarters.count(word) > 0;
  }
  return f;
}

bool ptb_keeps_period(U32View w, unsigned ctx) {
  if (w.empty()) return false;
  if (w.size() == 1 && word_char(w[0]) && !ascii_digit(w[0])) return (kSingleLetterContexts & ctx) != 0;
  // Acronyms: runs of one or two letters separated by periods (u.s, e.g, a.b.c, Ph.D).
  {
    size_t segments = 0, len = 0;
    bool acronym = true;
    for (size_t k = 0; k <= w.size() && acronym; ++k) {
      if (k == w.size() || w[k] == '.') {
        acronym = len >= 1 && len <= 2;
        ++segments, len = 0;
      } else if (ascii_alpha(w[k])) {
        ++len;
      } else {
        acronym = false;
      }
    }
    if (acronym && segments >= 2) return true;
  }
  const std::string s = to_utf8(w);
  const auto* end = std::end(kPtbAbbrev);
  const auto* it = std::lower_bound(std::begin(kPtbAbbrev), end, s,
                                    [](const PtbAbbrev& a, const std::string& v) { return a.word < v; });
  return it != end && it->word == s && (it->contexts & ctx) != 0;
}

// Java's toLowerCase(Locale.ENGLISH) on one token, via the measured table (final
// sigma handled by context, as Java does).
void lower_token(std::string& t) {
  if (std::all_of(t.begin(), t.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x80; })) {
    for (char& ch : t)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
    return;
  }
  const U32 u = utf8_decode(t);
  std::string out;
  for (size_t k = 0; k < u.size(); ++k) {
    const char32_t c = u[k];
    if (c < 0x80) {
      out += static_cast<char>(ascii_lower(c));
    } else if (c == 0x3A3) {
      const bool before = k > 0 && word_char(u[k - 1]);
      const bool after = k + 1 < u.size() && word_char(u[k + 1]);
      utf8_append(out, before && !after ? 0x3C2 : 0x3C3);
    } else if (const char8_t* text = char_text(c); text != nullptr && char_class(c) == 'L') {
      out += reinterpret_cast<const char*>(text);
    } else {
      utf8_append(out, c);
    }
  }
  t = std::move(out);
}

}  // namespace lnb::metrics::ptb
