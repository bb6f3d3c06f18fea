// See ptb_tokenizer.h. The line is split into chunks at whitespace and at deleted
// (untokenizable) characters; each chunk is scanned left to right by the rules
// below, in priority order; tokens are lowercased last (Java toLowerCase(ENGLISH)).
// The measured tables behind the rules are read through ptb_lexicon.h.
#include "metrics/ptb_tokenizer.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "metrics/parallel.h"
#include "metrics/ptb_lexicon.h"
#include "metrics/utf8.h"

namespace lnb::metrics {
namespace {

using namespace ptb;  // NOLINT: the lexicon is this file's vocabulary

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
    // A double quote ends an address ("http://x.com/a?b=c\"near" -> the URL, '', near).
    const U32View s = c_.substr(i, c_.substr(i).find(U'"'));
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
        if (i + 1 < n_ && ascii_digit(c_[i + 1])) {  // ":30", ",000", ":1,000", ":3:30": digit groups only
          size_t j = i + 1;
          while (j < n_ && ascii_digit(c_[j])) ++j;
          while (j + 1 < n_ && (c_[j] == ',' || c_[j] == ':') && ascii_digit(c_[j + 1]))
            for (++j; j < n_ && ascii_digit(c_[j]);) ++j;
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
    if (const char8_t* t = char_text(ch); t != nullptr && char_class(ch) == 'S') {
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
    // 't before "is" or "was", glued or not ("'tisred" -> 't isred).
    if (i + 3 < n_ && ascii_lower(c_[i + 1]) == 't' &&
        (ieq(c_.substr(i + 2, 2), "is") || (i + 4 < n_ && ieq(c_.substr(i + 2, 3), "was"))))
      return emit(c_.substr(i, 2)), i + 2;
    // A decade, '[2-9]0s, glued or not ("'90stree" -> '90s tree).
    if (i + 3 < n_ && c_[i + 1] >= '2' && c_[i + 1] <= '9' && c_[i + 2] == '0' && ascii_lower(c_[i + 3]) == 's')
      return emit(c_.substr(i, 4)), i + 4;
    if (i + 1 < n_ && ascii_digit(c_[i + 1])) {  // '90s
      size_t j = i + 1;
      while (j < n_ && ascii_digit(c_[j])) ++j;
      if (j < n_ && ascii_lower(c_[j]) == 's' && boundary(j + 1)) return emit(c_.substr(i, j + 1 - i)), j + 1;
    }
    if (const size_t len = clitic_at(i); len > 0 && i == 0) return emit(c_.substr(i, len)), i + len;
    if (i + 2 < n_ && ieq(c_.substr(i + 1, 2), "em")) return emit(c_.substr(i, 3)), i + 3;  // 'em, glued or not
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
    // ":-)x" is no smiley: ":" "-" "-rrb-" "x".
    if (j < n_ && (c_[j] == ')' || c_[j] == '(') && !(j + 1 < n_ && word_char(c_[j + 1]))) {
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
    if (j > i && c_[i] != '-') {  // ".5flying" -> .5 flying
      size_t k = j;
      while (k < n_ && ascii_digit(c_[k])) ++k;
      if (k > j && k < n_ && word_char(c_[k]) && !ascii_digit(c_[k])) {
        emit(c_.substr(i, k - i));
        return k;
      }
    }
    bool numeric = true;      // only digits and number punctuation so far
    bool used_slash = false;  // "flying/ok.Next": a slashed word takes no periods
    bool used_colon = false;  // "3:30-5:00": no hyphen after a time
    bool plain = true;        // a single segment so far (no connector used)
    bool used_period = c_[i] == '.';  // a period joined two segments (".5/to" -> .5 / to)
    bool used_hyphen = false; // "x-ray.with" -> x-ray with: a hyphenated word takes no period
    bool used_other = false;  // an underscore, a comma group or o'clock joined: no slash, no glue
    bool glued = false;       // "girl!throwing": after ! or ? no hyphen, slash or underscore joins
    int slashes = 0;
    auto letter = [&](size_t k) { return k < n_ && word_char(c_[k]) && !ascii_digit(c_[k]); };
    auto letters_end = [&](size_t k) {
      while (letter(k)) ++k;
      return k;
    };
    auto ascii_only = [&](size_t from, size_t to) {
      for (size_t k = from; k < to; ++k)
        if (c_[k] >= 0x80) return false;
      return true;
    };
    auto all_upper = [&](size_t from, size_t to) {
      for (size_t k = from; k < to; ++k)
        if (!ascii_upper(c_[k])) return false;
      return to > from;
    };
    while (true) {
      // After a slash the word goes on in ASCII letters and digits only ("cat/naïve" -> cat/na ïve).
      while (j < n_ && word_char(c_[j]) && (!used_slash || ascii_alpha(c_[j]) || ascii_digit(c_[j]))) {
        if (!ascii_digit(c_[j])) numeric = false;
        ++j;
      }
      if (j >= n_) break;
      const char32_t x = c_[j];
      const bool next_word = j + 1 < n_ && word_char(c_[j + 1]);
      const bool next_digit = j + 1 < n_ && ascii_digit(c_[j + 1]);
      if (x == '\'' || x == U'\u2019') {
        const bool straight = x == '\'';
        if (straight && ieq(c_.substr(i, j - i), "o") && j + 6 <= n_ && ieq(c_.substr(j + 1, 5), "clock")) {
          j += 6;
          used_other = true;  // "o'clock.with" -> o'clock with
          continue;
        }
        if (straight && ieq(c_.substr(i, j - i), "y") && letter(j + 1)) {
          emit(c_.substr(i, j + 1 - i));  // y' ("y'all", "y'allthrowing" -> y' allthrowing)
          return j + 1;
        }
        // n't after a plain word, glued or not: "don't" -> do n't, "kitchen'table" -> kitche n'table.
        // (A curly apostrophe in n't and the clitics is written as the straight one.)
        if (plain && j >= i + 2 && ascii_lower(c_[j - 1]) == 'n' && j + 1 < n_ && ascii_lower(c_[j + 1]) == 't') {
          const size_t k = letters_end(j + 1);
          emit(c_.substr(i, j - 1 - i));
          emit(to_utf8(c_.substr(j - 1, 1)) + "'" + to_utf8(c_.substr(j + 1, k - j - 1)));
          return k;
        }
        if (const size_t len = clitic_at(j); len > 0) {
          emit_word(c_.substr(i, j - i));
          emit("'" + to_utf8(c_.substr(j + 1, len - 1)));
          return j + len;
        }
        // APOWORD: letters ending in a vowel or y, the apostrophe, a vowel or a capital
        // ("umbrella'at", "TWO'THROWING", "curly’in"); or one capital (not I or Y) or n,
        // the apostrophe and two letters or more ("A'window", "n'two").
        const bool letters_only = plain && letters_end(i) == j;
        auto vowel = [](char32_t c) {
          const char32_t l = ascii_lower(c);
          return l == 'a' || l == 'e' || l == 'i' || l == 'o' || l == 'u';
        };
        const bool apoword_v = letters_only && j >= i + 2 && (vowel(c_[j - 1]) || ascii_lower(c_[j - 1]) == 'y') &&
                               j + 1 < n_ && (vowel(c_[j + 1]) || ascii_upper(c_[j + 1]));
        const char32_t first = c_[i];
        const bool apoword_1 = letters_only && j == i + 1 &&
                               ((ascii_upper(first) && first != 'I' && first != 'Y') || first == 'n') &&
                               letters_end(j + 1) >= j + 3;
        if (apoword_v || apoword_1) {
          const size_t k = letters_end(j + 1);
          emit(c_.substr(i, k - i));
          return k;
        }
        break;
      }
      if (x == '-' && !used_colon && !glued && next_word) { plain = false; used_hyphen = true; ++j; continue; }
      // At most two slashes ("a/b/c/umbrella" -> a/b/c / umbrella); ASCII on both sides.
      // Not after a period, a glue, an underscore or a comma group ("ok.Next/with", "girl!a/b",
      // "1,000/snow"), after a hyphen only before a letter ("young-50/50" -> young-50 / 50).
      if (x == '/' && next_word && slashes < 2 && !used_period && !glued && !used_other &&
          !(used_hyphen && !ascii_alpha(c_[j + 1])) && ascii_only(i, j) && (ascii_alpha(c_[j + 1]) || ascii_digit(c_[j + 1]))) {
        plain = false;
        used_slash = true;
        ++slashes;
        ++j;
        continue;
      }
      if (x == '_' && next_word && !glued) { plain = false; used_other = true; ++j; continue; }
      if ((x == ',' || x == ':') && numeric && ascii_digit(c_[j - 1]) && next_digit) {
        used_colon = used_colon || x == ':';
        used_other = true;
        plain = false;
        ++j;
        // The number goes on with digits only: "1,000tall" -> 1,000 tall.
        while (j < n_ && ascii_digit(c_[j])) ++j;
        if (letter(j)) break;
        continue;  // "1,000.5", "1,000-throwing"
      }
      if (x == '.' && numeric && next_digit) {  // "2.5", "1.5.2"; then digits only: "2.5laying" -> 2.5 laying
        plain = false;
        used_period = true;
        ++j;
        while (j < n_ && ascii_digit(c_[j])) ++j;
        if (letter(j)) break;
        continue;  // "5.1,000", "2.5-large"
      }
      if (x == '.' && next_word && !used_slash && !used_hyphen && !used_other && !numeric && !next_digit) {
        plain = false;
        used_period = true;
        ++j;
        continue;
      }
      // ".-" between words: "end.-behind", "Ph.D.-bird", "a.m.-three".
      if (x == '.' && !numeric && !used_slash && !used_hyphen && j + 2 < n_ && c_[j + 1] == '-' && word_char(c_[j + 2])) {
        plain = false;
        used_period = true;
        j += 2;
        continue;
      }
      // "two!holding": one token, then stop; not after a number nor before a digit ("5!two", "ab!5").
      if ((x == '!' || x == '?') && next_word && !numeric && !next_digit && !used_slash && !used_hyphen && !used_other &&
          letter(i)) {
        plain = false;  // "red?don't" -> red?don ' t
        glued = true;
        ++j;  // then the word goes on: "a!end.Start" -> a!end.start, "why?chair's" -> why?chair 's
        continue;
      }
      if (x == '&' && all_upper(i, j) && j + 1 < n_ && ascii_upper(c_[j + 1])) {  // "AT&T", "R&Blooking" -> r&b looking
        ++j;
        while (j < n_ && ascii_upper(c_[j])) ++j;
        emit(c_.substr(i, j - i));
        return j;
      }
      break;
    }
    U32View w = c_.substr(i, j - i);
    if (numeric && j + 1 < n_ && c_[j] == '.' && letter(j + 1)) {  // "5.of" -> 5 . of
      emit(w);
      return j;
    }
    // A period before ; , or : stays on the word ("end.;near" -> end. near, "5.:" -> 5.).
    if (j + 1 < n_ && c_[j] == '.' && (c_[j + 1] == ';' || c_[j + 1] == ',' || c_[j + 1] == ':')) {
      emit(c_.substr(i, j + 1 - i));
      return j + 1;
    }
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

  bool keeps_period(U32View w, bool period_ends_chunk) const {
    // Only a period that ends the chunk consults the following context; inside a
    // chunk ("c.)") the context is "lowercase".
    return ptb_keeps_period(w, period_ends_chunk ? follow_of(rest_, next_line_).bit() : 1u);
  }

  U32View c_;
  size_t n_;
  U32View rest_, next_line_;
  std::vector<std::string>& out_;
};

bool is_integer(const std::string& t) {
  return !t.empty() && std::all_of(t.begin(), t.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

bool is_fraction(const std::string& t) {
  const size_t slash = t.find('/');
  return slash != std::string::npos && slash > 0 && is_integer(t.substr(0, slash)) && is_integer(t.substr(slash + 1));
}


std::vector<std::string> tokenize_line(const U32& u, U32View next_line) {
  std::vector<std::string> raw;
  std::vector<bool> space_before;  // token starts a digit chunk preceded by whitespace only
  size_t i = 0;
  bool pending_space = false;
  while (i < u.size()) {
    const char32_t ch = u[i];
    if (is_space(ch) || char_class(ch) == 'W') {
      pending_space = true;
      ++i;
      continue;
    }
    if (char_class(ch) == 'D') {
      pending_space = false;
      ++i;
      continue;
    }
    size_t j = i;
    while (j < u.size() && !is_space(u[j]) && char_class(u[j]) != 'D' && char_class(u[j]) != 'W') ++j;
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
    if (!out.empty() && space_before[t] && is_integer(raw[t - 1]) && out.back() == raw[t - 1]) {
      // The whole number and its fraction are one token; letters glued after the
      // fraction are the next one ("3 1/2computer" -> 3 1/2, computer).
      size_t f = raw[t].find_first_not_of("0123456789/");
      if (f == std::string::npos) f = raw[t].size();
      const std::string frac = raw[t].substr(0, f);
      const bool letters_after = f < raw[t].size() && !(raw[t][f] == '.' || raw[t][f] == ',' || raw[t][f] == ':');
      if (is_fraction(frac) && (f == raw[t].size() || letters_after)) {
        out.back() += "\xC2\xA0" + frac;
        if (f < raw[t].size()) out.push_back(raw[t].substr(f));
        continue;
      }
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
    return std::all_of(l.begin(), l.end(), [](char32_t c) { return is_space(c) || char_class(c) == 'D'; });
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

std::vector<std::vector<std::string>> coco_tokenize_grouped(const std::vector<std::vector<std::string>>& groups) {
  std::vector<std::string> flat;
  for (const auto& g : groups) flat.insert(flat.end(), g.begin(), g.end());
  std::vector<std::string> tokens = coco_tokenize(flat);
  std::vector<std::vector<std::string>> out(groups.size());
  size_t k = 0;
  for (size_t i = 0; i < groups.size(); ++i)
    for (size_t j = 0; j < groups[i].size(); ++j) out[i].push_back(std::move(tokens[k++]));
  return out;
}

std::string coco_tokenize_one(std::string_view caption) { return coco_filter(ptb_tokenize_line(caption)); }

}  // namespace lnb::metrics
