// The vision-feature cache of the evaluator: CLIP features by image content, in memory
// (up to 1 GiB) and, when given a folder, on disk as versioned safetensors entries under
// the vision key (harness/evaluator.h vision_key). Every strategy freezes the vision
// tower, so entries are shared by tasks, strategies and nights. An entry read from disk
// is trusted only when it is whole: the version and key in its metadata, a 2-D floating
// tensor of the shape the cache has seen, every value finite; anything else is
// recomputed and rewritten (rejected() counts them). Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace lnb::harness {

// Vision features by image content, in memory and (optionally) on disk.
class FeatureCache {
 public:
  FeatureCache(std::filesystem::path dir, std::string key);
  const std::string& key() const { return key_; }
  // The features of each image; the misses are computed together, `compute` taking up to
  // `chunk` images at a time and returning (n, Np, Dv).
  std::vector<at::Tensor> get_many(const std::vector<std::filesystem::path>& images, int64_t chunk,
                                   const std::function<at::Tensor(const std::vector<std::filesystem::path>&)>& compute);
  int64_t hits() const { return hits_; }
  int64_t disk_hits() const { return disk_hits_; }
  int64_t misses() const { return misses_; }
  // Disk entries refused (damaged, foreign, wrong shape or dtype, non-finite) and recomputed.
  int64_t rejected() const { return rejected_; }

 private:
  const std::string& sha_of(const std::filesystem::path& image);
  at::Tensor find(const std::string& sha);  // memory, then disk; undefined on a miss
  void insert(const std::string& sha, const at::Tensor& features);
  std::filesystem::path entry_file(const std::string& sha) const;
  std::filesystem::path dir_;
  std::string key_;
  std::map<std::string, at::Tensor> memory_;       // by image sha256
  std::map<std::string, std::string> image_sha_;  // image path -> sha256
  std::vector<int64_t> shape_;  // (Np, Dv) of the first features computed or read
  int64_t memory_bytes_ = 0, hits_ = 0, disk_hits_ = 0, misses_ = 0, rejected_ = 0;
};

}  // namespace lnb::harness
