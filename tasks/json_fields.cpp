// See json_fields.h.
#include "tasks/json_fields.h"

#include <fstream>
#include <sstream>

#include "common/file_io.h"
#include "common/json_io.h"
#include "tasks/data_error.h"

namespace lnb::tasks::json_fields {

std::string read_all(const fs::path& path) { return common::read_file(path); }  // DataError: missing, a directory

json parse_json(const fs::path& path) { return common::read_json(path.string()); }  // bounded depth; empty is an error

std::string kind_of(const json& j) { return common::json_excerpt(j); }

const json& field(const json& obj, const char* name, const fs::path& path, long line, const std::string& where) {
  if (!obj.is_object()) throw DataError({path.string(), line, where, "an object", kind_of(obj), ""});
  const auto it = obj.find(name);
  if (it == obj.end()) throw DataError({path.string(), line, where + name, "a field '" + std::string(name) + "'", "none", ""});
  return *it;
}

std::string string_field(const json& obj, const char* name, const fs::path& path, long line, const std::string& where) {
  const json& v = field(obj, name, path, line, where);
  if (!v.is_string()) throw DataError({path.string(), line, where + name, "a string", kind_of(v), ""});
  return v.get<std::string>();
}

int64_t int_field(const json& obj, const char* name, const fs::path& path, long line, const std::string& where) {
  const json& v = field(obj, name, path, line, where);
  if (!v.is_number_integer()) throw DataError({path.string(), line, where + name, "an integer", kind_of(v), ""});
  return v.get<int64_t>();
}

const json& array_field(const json& obj, const char* name, const fs::path& path) {
  const json& v = field(obj, name, path, 0, "");
  if (!v.is_array()) throw DataError({path.string(), 0, name, "an array", kind_of(v), ""});
  return v;
}

// JSON lines: one object per non-blank line.
std::vector<std::pair<long, json>> read_json_lines(const fs::path& path) {
  std::istringstream in(read_all(path));
  std::vector<std::pair<long, json>> out;
  std::string line;
  long n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    out.emplace_back(n, common::parse_json(line, path.string(), n));
  }
  if (out.empty()) throw DataError({path.string(), 0, "", "one JSON value per line", "an empty file", ""});
  return out;
}


// The caption files are the large ones (COCO: 25k references per split), so they are
// parsed with simdjson's DOM (~1 GB/s) instead of nlohmann's (~30 MB/s).

sj::element load_simdjson(sj::parser& parser, const fs::path& path) {
  if (!fs::exists(path)) throw DataError({path.string(), 0, "", "a readable file", "no such file", "check the path"});
  if (fs::is_directory(path)) throw DataError({path.string(), 0, "", "a file", "a directory", "name the file inside it"});
  sj::element doc;
  if (const auto err = parser.load(path.string()).get(doc); err != simdjson::SUCCESS)
    throw DataError({path.string(), 0, "", "valid JSON", simdjson::error_message(err), ""});
  return doc;
}

std::string sj_kind(const sj::element& e) {
  // Bounded: a container is described by its size, a string by its first 60 bytes.
  std::ostringstream out;
  out << e.type();
  if (e.is_array()) out << " of " << sj::array(e).size() << " elements";
  else if (e.is_object()) out << " of " << sj::object(e).size() << " fields";
  else if (e.is_string()) out << " " << common::json_excerpt(std::string(std::string_view(e).substr(0, 60))).substr(7);
  else out << " " << simdjson::minify(e);
  return out.str();
}

sj::element sj_field(const sj::element& obj, const char* name, const fs::path& path, const std::string& where) {
  if (!obj.is_object()) throw DataError({path.string(), 0, where, "an object", sj_kind(obj), ""});
  sj::element v;
  if (obj[name].get(v) != simdjson::SUCCESS)
    throw DataError({path.string(), 0, where + name, "a field '" + std::string(name) + "'", "none", ""});
  return v;
}

std::string sj_id(const sj::element& obj, const char* name, const fs::path& path, const std::string& where) {
  const sj::element v = sj_field(obj, name, path, where);
  if (v.is_int64()) return std::to_string(int64_t(v));
  if (v.is_uint64()) return std::to_string(uint64_t(v));
  if (v.is_string()) return std::string(std::string_view(v));
  throw DataError({path.string(), 0, where + name, "an integer or string id", sj_kind(v), ""});
}

std::string sj_string(const sj::element& obj, const char* name, const fs::path& path, const std::string& where) {
  const sj::element v = sj_field(obj, name, path, where);
  if (!v.is_string()) throw DataError({path.string(), 0, where + name, "a string", sj_kind(v), ""});
  return std::string(std::string_view(v));
}

sj::array sj_array(const sj::element& v, const fs::path& path, const std::string& where) {
  if (!v.is_array()) throw DataError({path.string(), 0, where, "an array", sj_kind(v), ""});
  return sj::array(v);
}

bool sj_has(const sj::element& obj, const char* name) {
  sj::element v;
  return obj.is_object() && obj[name].get(v) == simdjson::SUCCESS;
}

}  // namespace lnb::tasks::json_fields
