// What "the same model" means: a digest of a model folder's config.json and every
// *.safetensors file (name + sha256, sorted). meta.json of every checkpoint records its
// base's; training, the evaluator, merge and `run`'s checkpoint keys all call this one
// function, so a delta trained on one base is recognised when applied to another.
#pragma once

#include <filesystem>
#include <string>

namespace lnb::model {

// Memoised per process by each file's name, size and modification time (a 7B folder is
// 14 GB to hash). Throws ModelLoadError (loader.h) when the folder cannot be listed.
std::string model_fingerprint(const std::filesystem::path& model_dir);

}  // namespace lnb::model
