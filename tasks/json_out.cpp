// See json_out.h.
#include "tasks/json_out.h"

namespace lnb::tasks {

std::string py_json_string(std::string_view s) {
  return nlohmann::ordered_json(std::string(s)).dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace);
}

std::string py_json_dumps(const nlohmann::ordered_json& j) {
  if (j.is_object()) {
    std::string out = "{";
    bool first = true;
    for (const auto& [k, v] : j.items()) {
      if (!first) out += ", ";
      first = false;
      out += py_json_string(k) + ": " + py_json_dumps(v);
    }
    return out + "}";
  }
  if (j.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < j.size(); ++i) out += (i ? ", " : "") + py_json_dumps(j[i]);
    return out + "]";
  }
  if (j.is_string()) return py_json_string(j.get_ref<const std::string&>());
  return j.dump();  // numbers, booleans, null: integers only in the files we write
}

}  // namespace lnb::tasks
