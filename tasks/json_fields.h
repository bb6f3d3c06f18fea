// Checked access to the JSON of benchmark files (nlohmann for the small ones,
// simdjson's DOM for the large caption files). Every accessor throws DataError naming
// the file, the line (JSON lines) or 0, and the field path ("annotations[3].caption").
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <simdjson.h>

namespace lnb::tasks::json_fields {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_all(const fs::path& path);
json parse_json(const fs::path& path);
std::string kind_of(const json& j);  // type name and the first 60 characters, for messages

const json& field(const json& obj, const char* name, const fs::path& path, long line, const std::string& where);
std::string string_field(const json& obj, const char* name, const fs::path& path, long line, const std::string& where);
int64_t int_field(const json& obj, const char* name, const fs::path& path, long line, const std::string& where);
const json& array_field(const json& obj, const char* name, const fs::path& path);

// JSON lines: one value per non-blank line, with its 1-based line number.
std::vector<std::pair<long, json>> read_json_lines(const fs::path& path);

// --- simdjson ------------------------------------------------------------------------
namespace sj = simdjson::dom;
sj::element load_simdjson(sj::parser& parser, const fs::path& path);
std::string sj_kind(const sj::element& e);
sj::element sj_field(const sj::element& obj, const char* name, const fs::path& path, const std::string& where);
bool sj_has(const sj::element& obj, const char* name);
std::string sj_id(const sj::element& obj, const char* name, const fs::path& path, const std::string& where);
std::string sj_string(const sj::element& obj, const char* name, const fs::path& path, const std::string& where);
sj::array sj_array(const sj::element& v, const fs::path& path, const std::string& where);

}  // namespace lnb::tasks::json_fields
