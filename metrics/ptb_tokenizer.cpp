// See ptb_tokenizer.h. The line is split into chunks at whitespace and at deleted
// (untokenizable) characters; each chunk is scanned left to right by the rules
// below, in priority order; tokens are lowercased last (Java toLowerCase(ENGLISH)).
#include "metrics/ptb_tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_set>

#include "metrics/parallel.h"
#include "metrics/utf8.h"

namespace lnb::metrics {
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

using U32 = std::u32string;
using U32View = std::u32string_view;

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

inline char ptb_class(char32_t c) {
  if (c > 0xFFFF || (c >= 0xD800 && c <= 0xDFFF)) return 'D';  // outside the BMP: untokenizable
  return class_table()[c];
}

const char8_t* ptb_text(char32_t c) {
  const auto* end = std::end(kPtbText);
  const auto* it = std::lower_bound(std::begin(kPtbText), end, c,
                                    [](const PtbText& t, char32_t v) { return t.cp < v; });
  return (it != end && it->cp == c) ? it->text : nullptr;
}

bool is_space(char32_t c) {
  return c == ' ' || c == '\t' || c == 0xA0 || (c >= 0x2000 && c <= 0x200A) || c == 0x3000;
}

bool ascii_alpha(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool ascii_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool ascii_upper(char32_t c) { return c >= 'A' && c <= 'Z'; }
char32_t ascii_lower(char32_t c) { return ascii_upper(c) ? c + 32 : c; }

// A character that forms words: letters and digits of any script.
bool word_char(char32_t c) {
  if (c < 0x80) return ascii_alpha(c) || ascii_digit(c);
  return ptb_class(c) == 'L';
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


// What follows a chunk, as the abbreviation rules see it (the jar looks past the
// end of the line into the next caption). Context bits as in gen_ptb_tables.py.
struct Follow {
  bool end_of_line = false;
  bool digit = false;    // a digit comes next
  bool starter = false;  // a sentence-start word comes next ("The", "A", "In", ...)
  unsigned bit() const {
    if (digit) return 1u << 2;
    if (end_of_line) return starter ? 1u << 4 : 1u << 3;
    return starter ? 1u << 1 : 1u << 0;
  }
};

Follow follow_of(U32View rest, U32View next_line) {
  Follow f;
  size_t k = 0;
  while (k < rest.size() && (is_space(rest[k]) || ptb_class(rest[k]) == 'D')) ++k;
  U32View text = rest.substr(k);
  if (text.empty()) {
    f.end_of_line = true;
    size_t m = 0;
    while (m < next_line.size() && (is_space(next_line[m]) || ptb_class(next_line[m]) == 'D')) ++m;
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

constexpr unsigned kSingleLetterContexts = 0b01101;  // kept unless a sentence start follows

class ChunkScanner {
 public:
  // `rest` is the line after the chunk, `next_line` the next line with text: the
  // following context is only computed when an abbreviation needs it.
  ChunkScanner(U32View chunk, U32View rest, U32View next_line, std::vector<std::string>& out)
      : c_(chunk), n_(chunk.size()), rest_(rest), next_line_(next_line), out_(out) {}

  void run() {
    size_t i = 0;
    if (try_url(i)) return;
    while (i < n_) i = step(i);
  }

 private:
  void emit(U32View t) { out_.push_back(to_utf8(t)); }
  void emit(std::string t) { out_.push_back(std::move(t)); }

  // A URL or e-mail address (kept whole); trailing sentence punctuation split off.
  bool try_url(size_t i) {
    const U32View s = c_.substr(i);
    // Cheap rejection first: a web address starts with h/w, an e-mail holds '@'.
    const char32_t first = ascii_lower(s.empty() ? U' ' : s[0]);
    if (first != 'h' && first != 'w' && s.find(U'@') == U32View::npos) return false;
    std::string head = to_utf8(s.substr(0, std::min<size_t>(s.size(), 8)));
    for (char& ch : head) ch = static_cast<char>(ascii_lower(static_cast<unsigned char>(ch)));
    const bool web = head.rfind("http://", 0) == 0 || head.rfind("https://", 0) == 0 || head.rfind("www.", 0) == 0;
    bool url = web;
    const size_t at = s.find(U'@');
    if (!url && at != U32View::npos && at > 0 && word_char(s[at - 1]) && s.find(U'.', at) != U32View::npos &&
        at + 1 < s.size() && word_char(s[at + 1]))
      url = true;
    if (!url) return false;
    size_t end = s.size();
    // Web addresses give up trailing ! and ? too; e-mail addresses keep them.
    while (end > 0 && (s[end - 1] == '.' || s[end - 1] == ',' || s[end - 1] == ';' || s[end - 1] == ':' ||
                       s[end - 1] == ')' || s[end - 1] == '"' || s[end - 1] == '\'' ||
                       (web && (s[end - 1] == '!' || s[end - 1] == '?'))))
      --end;
    emit(s.substr(0, end));
    size_t k = i + end;
    while (k < n_) k = step(k);
    return true;
  }

  size_t step(size_t i) {
    const char32_t ch = c_[i];
    if (word_char(ch)) return word(i);
    switch (ch) {
      case '"': return quote(i, '"');
      case '\'': return apostrophe(i);
      case '`':
        if (i + 1 < n_ && c_[i + 1] == '`') return emit(std::string("``")), i + 2;
        return emit(std::string("`")), i + 1;
      case '.': return dots(i);
      case '!':
      case '?': return bangs(i);
      case '-': return hyphens(i);
      case '&': return entity(i);
      case '<': return tag(i);
      case ':':
      case ',':
        if (i + 1 < n_ && ascii_digit(c_[i + 1])) {  // ":30", ",000": the digits only
          size_t j = i + 1;
          while (j < n_ && ascii_digit(c_[j])) ++j;
          emit(c_.substr(i, j - i));
          return j;
        }
        if (ch == ',') break;
        return smiley(i);
      case ';': return smiley(i);
      case '_': {  // a run of underscores is one token ("c__d" -> c __ d)
        size_t j = i;
        while (j < n_ && c_[j] == '_') ++j;
        emit(c_.substr(i, j - i));
        return j;
      }
      case '#':
        if (i + 1 < n_ && ascii_alpha(c_[i + 1])) {
          size_t j = i + 1;
          while (j < n_ && word_char(c_[j])) ++j;
          emit(c_.substr(i, j - i));
          return j;
        }
        break;
      default: break;
    }
    if (const char8_t* t = ptb_text(ch); t != nullptr && ptb_class(ch) == 'S') {
      emit(std::string(reinterpret_cast<const char*>(t)));
    } else {
      emit(c_.substr(i, 1));
    }
    return i + 1;
  }

  size_t quote(size_t i, char32_t) {
    if (i + 1 < n_ && c_[i + 1] == '\'') return emit(std::string("''")), i + 2;
    const bool opening = i + 1 < n_ && (word_char(c_[i + 1]) || c_[i + 1] == '(' || c_[i + 1] == '$');
    emit(std::string(opening ? "``" : "''"));
    return i + 1;
  }

  // Length of a clitic ('s 'm 'd 're 've 'll) starting at the apostrophe c_[j], or 0.
  size_t clitic_at(size_t j) const {
    auto boundary = [&](size_t k) { return k >= n_ || !(ascii_alpha(c_[k]) || ascii_digit(c_[k])); };
    if (j + 1 >= n_) return 0;
    const char32_t a = ascii_lower(c_[j + 1]);
    if ((a == 's' || a == 'm' || a == 'd') && boundary(j + 2)) return 2;
    if (j + 2 < n_) {
      const char32_t b = ascii_lower(c_[j + 2]);
      if (((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) && boundary(j + 3)) return 3;
    }
    return 0;
  }

  size_t apostrophe(size_t i) {
    auto boundary = [&](size_t k) { return k >= n_ || !word_char(c_[k]); };
    if (i + 1 < n_ && c_[i + 1] == '\'') return emit(std::string("''")), i + 2;
    if (i + 2 < n_ && ascii_lower(c_[i + 1]) == 'n' && c_[i + 2] == '\'' && boundary(i + 3))
      return emit(c_.substr(i, 3)), i + 3;  // 'n'
    if (i + 3 < n_ && ascii_lower(c_[i + 1]) == 't' &&
        (ieq(c_.substr(i + 2, 2), "is") || (i + 4 < n_ && ieq(c_.substr(i + 2, 3), "was")))) {
      const size_t len = ieq(c_.substr(i + 2, 2), "is") ? 2 : 3;
      if (boundary(i + 2 + len)) {
        emit(c_.substr(i, 2));  // 't
        return i + 2;
      }
    }
    if (i + 1 < n_ && ascii_digit(c_[i + 1])) {  // '90s
      size_t j = i + 1;
      while (j < n_ && ascii_digit(c_[j])) ++j;
      if (j < n_ && ascii_lower(c_[j]) == 's' && boundary(j + 1)) return emit(c_.substr(i, j + 1 - i)), j + 1;
    }
    if (const size_t len = clitic_at(i); len > 0 && i == 0) return emit(c_.substr(i, len)), i + len;
    if (i + 2 < n_ && ieq(c_.substr(i + 1, 2), "em") && boundary(i + 3)) return emit(c_.substr(i, 3)), i + 3;  // 'em
    const bool opening = i + 1 < n_ && word_char(c_[i + 1]);
    emit(std::string(opening ? "`" : "'"));
    return i + 1;
  }

  size_t dots(size_t i) {
    size_t j = i;
    while (j < n_ && c_[j] == '.') ++j;
    size_t k = j - i;
    if (k == 1 && j < n_ && ascii_digit(c_[j])) return word(i);  // .5
    size_t p = i;
    while (k > 0) {
      if (k >= 3) {
        const size_t take = std::min<size_t>(k, 5);
        emit(std::string("..."));
        p += take, k -= take;
      } else {
        emit(std::string("."));
        ++p, --k;
      }
    }
    return p;
  }

  size_t bangs(size_t i) {
    size_t j = i;
    while (j < n_ && (c_[j] == '!' || c_[j] == '?')) ++j;
    emit(c_.substr(i, j - i));
    return j;
  }

  size_t hyphens(size_t i) {
    size_t j = i;
    while (j < n_ && c_[j] == '-') ++j;
    const size_t k = j - i;
    if (k == 1 && j < n_ && ascii_digit(c_[j])) return word(i);  // a sign: -5
    if (k == 3 || k == 4) emit(std::string("--"));
    else emit(c_.substr(i, k));
    return j;
  }

  size_t entity(size_t i) {
    static const std::pair<std::string_view, std::string_view> kEntities[] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "''"}, {"&mdash;", "--"}, {"&ndash;", "--"}};
    for (const auto& [name, text] : kEntities)
      if (i + name.size() <= n_ && ieq(c_.substr(i, name.size()), name)) {
        emit(std::string(text));
        return i + name.size();
      }
    emit(std::string("&"));
    return i + 1;
  }

  size_t tag(size_t i) {
    size_t j = i + 1;
    if (j < n_ && c_[j] == '/') ++j;
    if (j < n_ && ascii_alpha(c_[j])) {
      while (j < n_ && (ascii_alpha(c_[j]) || ascii_digit(c_[j]))) ++j;
      if (j < n_ && c_[j] == '>') {
        emit(c_.substr(i, j + 1 - i));
        return j + 1;
      }
    }
    emit(std::string("<"));
    return i + 1;
  }

  size_t smiley(size_t i) {
    size_t j = i + 1;
    std::string t = to_utf8(c_.substr(i, 1));
    while (j < n_ && c_[j] == '-') t += '-', ++j;
    if (j < n_ && (c_[j] == ')' || c_[j] == '(')) {
      t += c_[j] == ')' ? "-rrb-" : "-lrb-";
      emit(t);
      return j + 1;
    }
    emit(to_utf8(c_.substr(i, 1)));
    return i + 1;
  }

  // Words and numbers: segments of word characters joined by - / _ . , : & where the
  // neighbours allow, then clitics, assimilations and an abbreviation's period.
  size_t word(size_t i) {
    size_t j = i;
    if (c_[j] == '-' || c_[j] == '.' || c_[j] == ',' || c_[j] == ':') ++j;  // sign, ".5", ":30", ",000"
    bool numeric = true;      // only digits and number punctuation so far
    bool used_slash = false;  // "flying/ok.Next": a slashed word takes no periods
    bool used_colon = false;  // "3:30-5:00": no hyphen after a time
    bool plain = true;        // a single segment so far (no connector used)
    auto all_upper = [&](size_t from, size_t to) {
      for (size_t k = from; k < to; ++k)
        if (!ascii_upper(c_[k])) return false;
      return to > from;
    };
    while (true) {
      const size_t seg = j;
      while (j < n_ && word_char(c_[j])) {
        if (!ascii_digit(c_[j])) numeric = false;
        ++j;
      }
      (void)seg;
      if (j >= n_) break;
      const char32_t x = c_[j];
      const bool next_word = j + 1 < n_ && word_char(c_[j + 1]);
      const bool next_digit = j + 1 < n_ && ascii_digit(c_[j + 1]);
      if (x == '\'') {
        if (ieq(c_.substr(i, j - i), "o") && j + 6 <= n_ && ieq(c_.substr(j + 1, 5), "clock")) {
          j += 6;
          continue;
        }
        if (ieq(c_.substr(i, j - i), "y") && j + 4 <= n_ && ieq(c_.substr(j + 1, 3), "all") &&
            (j + 4 >= n_ || !word_char(c_[j + 4]))) {
          emit(c_.substr(i, j + 1 - i));  // y'
          return j + 1;
        }
        if (j >= i + 2 && ascii_lower(c_[j - 1]) == 'n' && j + 1 < n_ && ascii_lower(c_[j + 1]) == 't' &&
            (j + 2 >= n_ || !word_char(c_[j + 2]))) {
          emit(c_.substr(i, j - 1 - i));
          emit(c_.substr(j - 1, 3));  // n't
          return j + 2;
        }
        if (const size_t len = clitic_at(j); len > 0) {
          emit_word(c_.substr(i, j - i));
          emit(c_.substr(j, len));
          return j + len;
        }
        break;
      }
      if (x == '-' && !used_colon && next_word) { plain = false; ++j; continue; }
      if (x == '/' && next_word) { plain = false; used_slash = true; ++j; continue; }
      if (x == '_' && next_word) { plain = false; ++j; continue; }
      if ((x == ',' || x == ':') && numeric && ascii_digit(c_[j - 1]) && next_digit) {
        used_colon = used_colon || x == ':';
        plain = false;
        ++j;
        // The number goes on with digits only: "1,000tall" -> 1,000 tall.
        while (j < n_ && ascii_digit(c_[j])) ++j;
        if (j < n_ && (c_[j] == ',' || c_[j] == ':' || c_[j] == '.') && j + 1 < n_ && ascii_digit(c_[j + 1])) continue;
        break;
      }
      if (x == '.' && next_word && !used_slash && (numeric || !next_digit)) { plain = false; ++j; continue; }
      if ((x == '!' || x == '?') && next_word && plain) {  // "two!holding": one token, then stop
        ++j;
        while (j < n_ && word_char(c_[j])) ++j;
        break;
      }
      if (x == '&' && all_upper(i, j) && j + 1 < n_ && ascii_upper(c_[j + 1])) { ++j; continue; }
      break;
    }
    U32View w = c_.substr(i, j - i);
    if (j < n_ && c_[j] == '.' && keeps_period(w, j + 1 == n_)) {
      emit(c_.substr(i, j + 1 - i));
      return j + 1;
    }
    emit_word(w);
    return j;
  }

  void emit_word(U32View w) {
    static const std::pair<std::string_view, size_t> kSplits[] = {
        {"cannot", 3}, {"gonna", 3}, {"gotta", 3}, {"lemme", 3}, {"gimme", 3}, {"wanna", 3}};
    if (w.size() == 5 || w.size() == 6)
    for (const auto& [word, at] : kSplits)
      if (ieq(w, word)) {
        emit(w.substr(0, at));
        emit(w.substr(at));
        return;
      }
    emit(w);
  }

  // Whether "w." keeps its period: only a period that ends the chunk consults the
  // following context; inside a chunk ("c.)") the context is "lowercase".
  bool keeps_period(U32View w, bool period_ends_chunk) const {
    if (w.empty()) return false;
    const unsigned ctx = period_ends_chunk ? follow_of(rest_, next_line_).bit() : 1u;
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

  U32View c_;
  size_t n_;
  U32View rest_, next_line_;
  std::vector<std::string>& out_;
};

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
    } else if (const char8_t* text = ptb_text(c); text != nullptr && ptb_class(c) == 'L') {
      out += reinterpret_cast<const char*>(text);
    } else {
      utf8_append(out, c);
    }
  }
  t = std::move(out);
}

bool is_java_newline(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029 || c == 0x0B || c == 0x0C || c == 0x85;
}

bool is_integer(const std::string& t) {
  return !t.empty() && std::all_of(t.begin(), t.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

bool is_fraction(const std::string& t) {
  const size_t slash = t.find('/');
  return slash != std::string::npos && slash > 0 && is_integer(t.substr(0, slash)) && is_integer(t.substr(slash + 1));
}

}  // namespace

namespace {

std::vector<std::string> tokenize_line(const U32& u, U32View next_line) {
  std::vector<std::string> raw;
  std::vector<bool> space_before;  // token starts a digit chunk preceded by whitespace only
  size_t i = 0;
  bool pending_space = false;
  while (i < u.size()) {
    const char32_t ch = u[i];
    if (is_space(ch) || ptb_class(ch) == 'W') {
      pending_space = true;
      ++i;
      continue;
    }
    if (ptb_class(ch) == 'D') {
      pending_space = false;
      ++i;
      continue;
    }
    size_t j = i;
    while (j < u.size() && !is_space(u[j]) && ptb_class(u[j]) != 'D' && ptb_class(u[j]) != 'W') ++j;
    const size_t before = raw.size();
    ChunkScanner(U32View(u).substr(i, j - i), U32View(u).substr(j), next_line, raw).run();
    // Only a fraction typed with digits joins a number ("3 1/2"), not a normalized "½".
    for (size_t t = before; t < raw.size(); ++t) space_before.push_back(t == before && pending_space && ascii_digit(u[i]));
    pending_space = false;
    i = j;
  }
  // normalizeSpace: "3 1/2" is one token with U+00A0 inside.
  std::vector<std::string> out;
  for (size_t t = 0; t < raw.size(); ++t) {
    if (!out.empty() && space_before[t] && is_fraction(raw[t]) && is_integer(raw[t - 1]) &&
        out.back() == raw[t - 1]) {
      out.back() += "\xC2\xA0" + raw[t];
      continue;
    }
    out.push_back(raw[t]);
  }
  for (std::string& t : out) lower_token(t);  // ASCII fast path inside
  return out;
}

}  // namespace

std::vector<std::string> ptb_tokenize_line(std::string_view line, std::string_view next_line) {
  return tokenize_line(utf8_decode(line), utf8_decode(next_line));
}

std::string coco_filter(const std::vector<std::string>& tokens) {
  static const std::string_view kPunct[] = {"''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".",
                                            "?",  "!", ",",  ":", "-",     "--",    "...",   ";"};
  static const std::unordered_set<std::string_view> kDrop(std::begin(kPunct), std::end(kPunct));
  std::string out;
  for (const std::string& t : tokens) {
    if (kDrop.count(t)) continue;
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

std::vector<std::string> coco_tokenize(const std::vector<std::string>& captions, size_t* n_missing) {
  // Lines as the jar sees them: captions joined by '\n' after '\n' -> ' ', split at
  // every Java line terminator ("\r\n" counts once, also across the join).
  std::vector<U32> lines;
  U32 cur;
  bool last_cr = false;
  for (size_t k = 0; k < captions.size(); ++k) {
    if (k > 0) {
      if (!last_cr) lines.push_back(std::move(cur));
      cur.clear();
      last_cr = false;
    }
    for (const char32_t raw : utf8_decode(captions[k])) {
      const char32_t ch = raw == '\n' ? U' ' : raw;
      last_cr = ch == '\r';
      if (is_java_newline(ch)) {
        lines.push_back(std::move(cur));
        cur.clear();
      } else {
        cur.push_back(ch);
      }
    }
  }
  if (!captions.empty()) lines.push_back(std::move(cur));
  // The jar's lookahead skips blank lines: each line sees the next line with text.
  auto blank = [](const U32& l) {
    return std::all_of(l.begin(), l.end(), [](char32_t c) { return is_space(c) || ptb_class(c) == 'D'; });
  };
  std::vector<size_t> next_text(lines.size(), lines.size());
  for (size_t k = lines.size(); k-- > 1;) next_text[k - 1] = blank(lines[k]) ? next_text[k] : k;
  std::vector<std::string> out(captions.size());
  const size_t n = std::min(captions.size(), lines.size());
  parallel_blocks(n, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) {
      const U32View next = next_text[k] < lines.size() ? U32View(lines[next_text[k]]) : U32View();
      out[k] = coco_filter(tokenize_line(lines[k], next));
    }
  });
  if (n_missing) *n_missing = captions.size() - n;
  return out;
}

std::string coco_tokenize_one(std::string_view caption) { return coco_filter(ptb_tokenize_line(caption)); }

}  // namespace lnb::metrics
