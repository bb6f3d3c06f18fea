// See json_io.h.
#include "common/json_io.h"

#include <cstdio>

#include "common/errors.h"
#include "common/file_io.h"

namespace lnb::common {

using nlohmann::json;

size_t json_depth_violation(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return std::string_view::npos;
}

json parse_json(std::string_view text, const std::string& source, long line, int max_depth) {
  if (const size_t at = json_depth_violation(text, max_depth); at != std::string_view::npos)
    throw InputError({source, line, "", "JSON nested at most " + std::to_string(max_depth) + " levels deep",
                      "deeper nesting at byte " + std::to_string(at), "this is not a file lnbench reads"});
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // parse_error; out_of_range on a number that overflows
    std::string what = e.what();
    if (what.size() > 200) what = what.substr(0, 200) + "…";
    throw InputError({source, line, "", "valid JSON", what, ""});
  }
}

json read_json(const std::string& path) {
  const std::string text = read_file(path);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw InputError({path, 0, "", "a JSON document", "an empty file", ""});
  return parse_json(text, path);
}

namespace {

// Appends a bounded rendering of `j`; stops once `out` holds `budget` characters.
void excerpt(const json& j, std::string& out, size_t budget, int depth) {
  if (out.size() >= budget) return;
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    const size_t room = budget - out.size();
    std::string head = s.substr(0, room);
    out += json(head).dump(-1, ' ', false, json::error_handler_t::replace);
    if (head.size() < s.size()) out += "…";
    return;
  }
  if (j.is_array() || j.is_object()) {
    if (depth >= 3) {
      out += j.is_array() ? "[…]" : "{…}";
      return;
    }
    out += j.is_array() ? "[" : "{";
    size_t n = 0;
    for (auto it = j.begin(); it != j.end(); ++it, ++n) {
      if (out.size() >= budget) {
        out += "…";
        break;
      }
      if (n > 0) out += ", ";
      if (j.is_object()) out += json(it.key()).dump(-1, ' ', false, json::error_handler_t::replace) + ": ";
      excerpt(*it, out, budget, depth + 1);
    }
    out += j.is_array() ? "]" : "}";
    return;
  }
  out += j.dump();  // a scalar: a number, a boolean or null (short)
}

}  // namespace

std::string json_excerpt(const json& j, size_t max_chars) {
  std::string text;
  excerpt(j, text, max_chars, 0);
  std::string s = std::string(j.type_name()) + " " + text;
  if ((j.is_array() || j.is_object()) && j.size() > 3) s += " (" + std::to_string(j.size()) + " elements)";
  return s;
}

}  // namespace lnb::common
