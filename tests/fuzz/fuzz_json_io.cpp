// common/json_io: any bytes -> bounded parse (depth scan first) -> a bounded excerpt
// of every value. The only exception allowed is InputError; an excerpt is never longer
// than its budget allows (60 characters plus the type, the closing brackets and counts).
#include <cstdint>
#include <string_view>

#include "common/errors.h"
#include "common/json_io.h"

namespace {

void walk(const nlohmann::json& j, int depth) {
  const std::string e = lnb::common::json_excerpt(j);
  if (e.size() > 400) __builtin_trap();
  if (!j.is_array() && !j.is_object()) return;
  if (depth > lnb::common::kMaxJsonDepth) __builtin_trap();  // the depth limit held
  for (const auto& v : j) walk(v, depth + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    walk(lnb::common::parse_json(text, "fuzz.json"), 1);
  } catch (const lnb::common::InputError&) {
  }
  return 0;
}
