// See utf8.h.
#include "metrics/utf8.h"

#include <cctype>

namespace lnb::metrics {

std::u32string utf8_decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (c < 0x80) { out.push_back(c); ++i; continue; }
    if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; min = 0x10000; }
    bool ok = n > 0 && i + n <= s.size();
    for (int k = 1; ok && k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string utf8_encode(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) utf8_append(out, c);
  return out;
}

bool py_isspace(char32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

bool py_isdigit(char32_t c) {
  static constexpr char32_t kZeros[] = {0x30,   0x660,  0x6F0,  0x7C0,  0x966,  0x9E6,  0xA66,  0xAE6,
                                        0xB66,  0xBE6,  0xC66,  0xCE6,  0xD66,  0xDE6,  0xE50,  0xED0,
                                        0xF20,  0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
                                        0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900,
                                        0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10};
  for (char32_t z : kZeros)
    if (c >= z && c <= z + 9) return true;
  return false;
}

void append_lower(std::u32string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
  } else if (c == 0x130) {  // İ -> i + combining dot above (full mapping)
    out.push_back('i');
    out.push_back(0x307);
  } else if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3AB && c != 0x3A2) ||
             (c >= 0x410 && c <= 0x42F) || (c >= 0xFF21 && c <= 0xFF3A)) {
    out.push_back(c + 32);  // Latin-1, Greek, Cyrillic and fullwidth capitals sit 32 below
  } else if (c >= 0x400 && c <= 0x40F) {
    out.push_back(c + 80);
  } else if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177) || (c >= 0x460 && c <= 0x481) ||
             (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F) || (c >= 0x1E00 && c <= 0x1E95) ||
             (c >= 0x1EA0 && c <= 0x1EFF)) {
    out.push_back((c % 2 == 0) ? c + 1 : c);
  } else if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) {
    out.push_back((c % 2 == 1) ? c + 1 : c);
  } else if (c == 0x178) {
    out.push_back(0xFF);
  } else if (c >= 0x531 && c <= 0x556) {
    out.push_back(c + 48);
  } else if (c == 0x386) {
    out.push_back(0x3AC);
  } else if (c >= 0x388 && c <= 0x38A) {
    out.push_back(c + 37);
  } else if (c == 0x38C) {
    out.push_back(0x3CC);
  } else if (c == 0x38E || c == 0x38F) {
    out.push_back(c + 63);
  } else {
    out.push_back(c);
  }
}

std::string py_lower(std::string_view s) {
  const std::u32string in = utf8_decode(s);
  std::u32string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    // Final sigma: Σ at the end of a word lowercases to ς (Python and Java agree).
    if (in[i] == 0x3A3) {
      auto is_letter = [](char32_t c) { return (c >= 0x370 && c <= 0x3FF) || (c < 0x80 && std::isalpha(static_cast<int>(c))) || (c >= 0xC0 && c <= 0x24F); };
      const bool before = i > 0 && is_letter(in[i - 1]);
      const bool after = i + 1 < in.size() && is_letter(in[i + 1]);
      out.push_back(before && !after ? 0x3C2 : 0x3C3);
      continue;
    }
    append_lower(out, in[i]);
  }
  return utf8_encode(out);
}

std::string py_strip(std::string_view s) {
  const std::u32string in = utf8_decode(s);
  size_t b = 0, e = in.size();
  while (b < e && py_isspace(in[b])) ++b;
  while (e > b && py_isspace(in[e - 1])) --e;
  return utf8_encode(in.substr(b, e - b));
}

}  // namespace lnb::metrics
