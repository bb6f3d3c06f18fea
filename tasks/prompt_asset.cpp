// See prompt_asset.h.
#include "tasks/prompt_asset.h"

#include "common/json_io.h"
#include "common/sha256.h"
#include "tasks/builtin_assets.h"
#include "tasks/data_error.h"
#include "tasks/json_fields.h"

namespace lnb::tasks {
namespace {

using json_fields::json;

PromptAsset parse_asset(const std::string& bytes, const std::string& source) {
  const json j = common::parse_json(bytes, source);
  const std::string schema = json_fields::string_field(j, "schema", source, 0, "");
  if (schema != "lnbench.prompt_asset/1")
    throw DataError({source, 0, "schema", "lnbench.prompt_asset/1", schema, ""});
  PromptAsset a;
  a.name = json_fields::string_field(j, "name", source, 0, "");
  a.version = static_cast<int>(json_fields::int_field(j, "version", source, 0, ""));
  a.instruction = json_fields::string_field(j, "instruction", source, 0, "");
  const json& ex = json_fields::array_field(j, "examples", source);
  for (size_t i = 0; i < ex.size(); ++i) {
    const std::string w = "examples[" + std::to_string(i) + "].";
    Turn t{json_fields::string_field(ex[i], "user", source, 0, w), json_fields::string_field(ex[i], "assistant", source, 0, w)};
    if (t.user.find(kImageMarker) != std::string::npos)
      throw DataError({source, 0, w + "user", "a text-only example", "an <image> marker", "the image belongs to the last turn"});
    a.examples.push_back(std::move(t));
  }
  a.sha256 = common::sha256_hex(bytes);
  a.source = source;
  return a;
}

}  // namespace

std::string PromptAsset::label() const {
  return name + "@" + std::to_string(version) + " (sha256:" + sha256.substr(0, 12) + ", " + source + ")";
}

PromptAsset builtin_caption_asset() { return parse_asset(std::string(kBuiltinCaption3ShotV1), "builtin"); }

PromptAsset load_prompt_asset(const std::filesystem::path& path) {
  return parse_asset(json_fields::read_all(path), path.string());
}

}  // namespace lnb::tasks
