// Versioned prompt assets (tasks/assets/*.json, schema lnbench.prompt_asset/1): the
// text-only example turns of the caption prompt. Built-in ones are embedded in the
// binary; a user file with the same schema can replace them. The asset's name,
// version and sha256 go into the task fingerprint and the report.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace lnb::tasks {

struct PromptAsset {
  std::string name;
  int version = 0;
  std::string instruction;
  std::vector<Turn> examples;  // every one with an answer
  std::string sha256;          // of the file's bytes
  std::string source;          // "builtin" or the file path
  std::string label() const;   // "caption-3shot@1 (sha256:1234abcd...)"
};

PromptAsset builtin_caption_asset();
// Throws DataError naming the file and field.
PromptAsset load_prompt_asset(const std::filesystem::path& path);

}  // namespace lnb::tasks
