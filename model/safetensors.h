// safetensors files as LibTorch tensors: an mmap'd reader (single files and sharded
// checkpoints with model.safetensors.index.json) and a writer. The header is parsed
// and validated by safetensors_header.h; bad files are SafetensorsError naming the
// file and the tensor.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "model/safetensors_header.h"

namespace lnb::model {

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path);  // throws SafetensorsError
  const SafetensorsHeader& header() const { return header_; }
  const std::filesystem::path& path() const { return path_; }
  bool contains(const std::string& name) const { return index_.count(name) > 0; }
  std::vector<std::string> names() const;  // in data order
  // A CPU tensor owning a copy of the bytes (mapped data may be misaligned or shared).
  at::Tensor tensor(const std::string& name) const;

 private:
  struct Mapping;
  std::filesystem::path path_;
  std::shared_ptr<Mapping> map_;
  SafetensorsHeader header_;
  std::map<std::string, size_t> index_;
};

// A checkpoint folder: model.safetensors, or model.safetensors.index.json ("weight_map":
// tensor -> shard file) and its shards; or a single given file.
class SafetensorsCheckpoint {
 public:
  explicit SafetensorsCheckpoint(const std::filesystem::path& file_or_dir);
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return where_.count(name) > 0; }
  at::Tensor tensor(const std::string& name) const;
  // The shard file that holds `name` (empty when none does), for messages.
  std::filesystem::path file_of(const std::string& name) const {
    const auto it = where_.find(name);
    return it == where_.end() ? std::filesystem::path() : it->second->path();
  }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> where_;
};

// Writes tensors (any device; copied to contiguous CPU) back to back in the given order,
// to a temporary file renamed into place. Metadata as in PEFT: {"format": "pt"}.
void save_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace lnb::model
