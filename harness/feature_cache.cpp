// See feature_cache.h.
#include "harness/feature_cache.h"

#include <unistd.h>

#include <ATen/ATen.h>

#include "common/sha256.h"
#include "model/safetensors.h"

namespace lnb::harness {

namespace fs = std::filesystem;

namespace {
constexpr int64_t kMemoryCacheBytes = int64_t{1} << 30;
constexpr const char* kFeatureCacheVersion = "1";  // entries of another version are recomputed
}  // namespace

FeatureCache::FeatureCache(fs::path dir, std::string key) : dir_(std::move(dir)), key_(std::move(key)) {}

const std::string& FeatureCache::sha_of(const fs::path& image) {
  auto known = image_sha_.find(image.string());  // each image file is hashed once per process
  if (known == image_sha_.end()) known = image_sha_.emplace(image.string(), common::sha256_file(image).sha256).first;
  return known->second;
}

fs::path FeatureCache::entry_file(const std::string& sha) const {
  return dir_.empty() ? fs::path() : dir_ / key_.substr(0, 16) / sha.substr(0, 2) / (sha + ".safetensors");
}

at::Tensor FeatureCache::find(const std::string& sha) {
  if (const auto it = memory_.find(sha); it != memory_.end()) {
    ++hits_;
    return it->second;
  }
  const fs::path file = entry_file(sha);
  if (file.empty() || !fs::exists(file)) return {};
  try {
    const model::SafetensorsFile entry(file);
    const auto& meta = entry.header().metadata;
    const auto version = meta.find("lnbench.feature_cache"), key = meta.find("lnbench.vision_key");
    if (version != meta.end() && version->second == kFeatureCacheVersion && key != meta.end() && key->second == key_) {
      at::Tensor f = entry.tensor("features").clone();
      const bool whole = f.dim() == 2 && at::isFloatingType(f.scalar_type()) &&
                         (shape_.empty() || f.sizes() == at::IntArrayRef(shape_)) && at::isfinite(f).all().item<bool>();
      if (!whole) {
        ++rejected_;
        return {};
      }
      if (shape_.empty()) shape_ = f.sizes().vec();
      ++disk_hits_;
      if (memory_bytes_ + static_cast<int64_t>(f.nbytes()) <= kMemoryCacheBytes) {
        memory_bytes_ += static_cast<int64_t>(f.nbytes());
        memory_.emplace(sha, f);
      }
      return f;
    }
  } catch (const std::exception&) {
    ++rejected_;
    return {};  // a damaged entry is recomputed and rewritten
  }
  return {};  // a foreign entry (other version or key) is recomputed and rewritten
}

void FeatureCache::insert(const std::string& sha, const at::Tensor& features) {
  ++misses_;
  const at::Tensor f = features.detach().to(at::kCPU).contiguous();
  if (const fs::path file = entry_file(sha); !file.empty()) {
    fs::create_directories(file.parent_path());
    model::save_safetensors(file, {{"features", f}},  // atomic: a reader sees the old entry or the new one
                            {{"format", "pt"}, {"lnbench.feature_cache", kFeatureCacheVersion}, {"lnbench.vision_key", key_}});
  }
  if (memory_bytes_ + static_cast<int64_t>(f.nbytes()) <= kMemoryCacheBytes) {
    memory_bytes_ += static_cast<int64_t>(f.nbytes());
    memory_.emplace(sha, f);
  }
}

std::vector<at::Tensor> FeatureCache::get_many(const std::vector<fs::path>& images, int64_t chunk,
                                               const std::function<at::Tensor(const std::vector<fs::path>&)>& compute) {
  std::vector<at::Tensor> out(images.size());
  std::map<std::string, std::vector<size_t>> wanted;  // sha -> positions in `images` still missing
  std::vector<std::string> order;                     // missing shas, first appearance
  std::vector<fs::path> paths;
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string sha = sha_of(images[i]);
    if (auto w = wanted.find(sha); w != wanted.end()) {
      w->second.push_back(i);
      continue;
    }
    out[i] = find(sha);
    if (out[i].defined()) continue;
    wanted[sha].push_back(i);
    order.push_back(sha);
    paths.push_back(images[i]);
  }
  for (size_t s = 0; s < order.size(); s += static_cast<size_t>(chunk)) {
    const size_t e = std::min(order.size(), s + static_cast<size_t>(chunk));
    const at::Tensor f = compute({paths.begin() + static_cast<std::ptrdiff_t>(s), paths.begin() + static_cast<std::ptrdiff_t>(e)})
                             .detach().to(at::kCPU);  // (n, Np, Dv)
    TORCH_CHECK(f.size(0) == static_cast<int64_t>(e - s), "vision batch: ", f.size(0), " features for ", e - s, " images");
    if (shape_.empty() && f.size(0) > 0) shape_ = f[0].sizes().vec();
    for (size_t j = s; j < e; ++j) {
      const at::Tensor one = f[static_cast<int64_t>(j - s)].contiguous();
      insert(order[j], one);
      for (size_t i : wanted[order[j]]) out[i] = one;
    }
  }
  return out;
}

}  // namespace lnb::harness
