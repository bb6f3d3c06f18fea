// See safetensors.h.
#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include "common/atomic_file.h"
#include "common/json_io.h"

namespace lnb::model {
namespace {

at::ScalarType scalar_type(StDtype d) {
  switch (d) {
    case StDtype::kF64: return at::kDouble;
    case StDtype::kF32: return at::kFloat;
    case StDtype::kF16: return at::kHalf;
    case StDtype::kBF16: return at::kBFloat16;
    case StDtype::kI64: return at::kLong;
    case StDtype::kI32: return at::kInt;
    case StDtype::kI16: return at::kShort;
    case StDtype::kI8: return at::kChar;
    case StDtype::kU8: return at::kByte;
    case StDtype::kBool: return at::kBool;
    case StDtype::kF8E4M3: return at::kFloat8_e4m3fn;
    case StDtype::kF8E5M2: return at::kFloat8_e5m2;
  }
  return at::kFloat;
}

StDtype st_dtype(at::ScalarType t, const std::string& name) {
  switch (t) {
    case at::kDouble: return StDtype::kF64;
    case at::kFloat: return StDtype::kF32;
    case at::kHalf: return StDtype::kF16;
    case at::kBFloat16: return StDtype::kBF16;
    case at::kLong: return StDtype::kI64;
    case at::kInt: return StDtype::kI32;
    case at::kShort: return StDtype::kI16;
    case at::kChar: return StDtype::kI8;
    case at::kByte: return StDtype::kU8;
    case at::kBool: return StDtype::kBool;
    case at::kFloat8_e4m3fn: return StDtype::kF8E4M3;
    case at::kFloat8_e5m2: return StDtype::kF8E5M2;
    default: throw SafetensorsError("", name, std::string("dtype ") + c10::toString(t) + " has no safetensors encoding");
  }
}

}  // namespace

struct SafetensorsFile::Mapping {
  const char* data = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (data != nullptr && size > 0) munmap(const_cast<char*>(data), size);
  }
};

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : path_(path), map_(std::make_shared<Mapping>()) {
  const std::string file = path.string();
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw SafetensorsError(file, "", std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    throw SafetensorsError(file, "", "cannot stat");
  }
  map_->size = static_cast<size_t>(st.st_size);
  if (map_->size > 0) {
    void* p = mmap(nullptr, map_->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      map_->size = 0;
      throw SafetensorsError(file, "", std::string("cannot mmap: ") + std::strerror(errno));
    }
    map_->data = static_cast<const char*>(p);
  }
  ::close(fd);
  uint64_t n = 0;
  if (map_->size >= 8)
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(map_->data[i]);
  const size_t prefix = static_cast<size_t>(std::min<uint64_t>(map_->size, 8 + std::min<uint64_t>(n, kMaxSafetensorsHeader)));
  header_ = parse_safetensors_header(std::string_view(map_->data, prefix), map_->size, file);
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const StTensorInfo& t : header_.tensors) out.push_back(t.name);
  return out;
}

at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) throw SafetensorsError(path_.string(), name, "no such tensor in this file");
  const StTensorInfo& t = header_.tensors[it->second];
  at::Tensor out = at::empty(t.shape, at::TensorOptions().dtype(scalar_type(t.dtype)));
  if (t.end > t.begin) std::memcpy(out.data_ptr(), map_->data + header_.data_start + t.begin, t.end - t.begin);
  return out;  // safetensors is little-endian, as every machine lnbench runs on
}

SafetensorsCheckpoint::SafetensorsCheckpoint(const std::filesystem::path& file_or_dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> shards;
  const fs::path index = file_or_dir / "model.safetensors.index.json";
  if (fs::is_regular_file(file_or_dir)) {
    shards.push_back(file_or_dir);
  } else if (fs::exists(index)) {
    nlohmann::json j;
    try {
      j = common::read_json(index.string());
    } catch (const std::exception& e) {
      throw SafetensorsError(index.string(), "", e.what());
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      throw SafetensorsError(index.string(), "", "expected an object 'weight_map' {tensor: shard file}");
    std::map<std::string, std::string> wanted;
    for (const auto& [name, f] : j["weight_map"].items()) {
      if (!f.is_string()) throw SafetensorsError(index.string(), name, "weight_map: expected a file name");
      const std::string shard = f.get<std::string>();
      if (shard.empty() || shard == "." || shard == ".." || shard.find('/') != std::string::npos)
        throw SafetensorsError(index.string(), name, "weight_map: expected a shard file name inside the model folder, got '" +
                                                         shard.substr(0, 120) + "'");
      wanted[name] = shard;
      if (std::find(shards.begin(), shards.end(), file_or_dir / f.get<std::string>()) == shards.end())
        shards.push_back(file_or_dir / f.get<std::string>());
    }
    for (const fs::path& s : shards) files_.push_back(std::make_unique<SafetensorsFile>(s));
    for (const auto& [name, f] : wanted) {
      const SafetensorsFile* owner = nullptr;
      for (const auto& file : files_)
        if (file->path() == file_or_dir / f) owner = file.get();
      if (owner == nullptr || !owner->contains(name))
        throw SafetensorsError(index.string(), name, "the index names shard '" + f + "', which does not hold it");
      where_[name] = owner;
    }
    return;
  } else if (fs::exists(file_or_dir / "model.safetensors")) {
    shards.push_back(file_or_dir / "model.safetensors");
  } else {
    throw SafetensorsError(file_or_dir.string(), "", "no model.safetensors or model.safetensors.index.json here");
  }
  for (const fs::path& s : shards) files_.push_back(std::make_unique<SafetensorsFile>(s));
  for (const auto& f : files_)
    for (const std::string& n : f->names()) where_[n] = f.get();
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : where_) out.push_back(n);
  return out;
}

at::Tensor SafetensorsCheckpoint::tensor(const std::string& name) const {
  const auto it = where_.find(name);
  if (it == where_.end()) throw SafetensorsError("checkpoint", name, "no such tensor in the checkpoint");
  return it->second->tensor(name);
}

void save_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<StTensorInfo> infos;
  std::vector<at::Tensor> cpu;
  for (const auto& [name, t] : tensors) {
    StTensorInfo info;
    info.name = name;
    info.dtype = st_dtype(t.scalar_type(), name);
    info.shape = t.sizes().vec();
    infos.push_back(std::move(info));
    cpu.push_back(t.detach().to(at::kCPU).contiguous());
  }
  const std::string header = make_safetensors_header(infos, metadata);
  common::AtomicFile out(path);  // EnvironmentError naming the file on a full disk; PATH untouched
  out.write(header);
  for (const at::Tensor& t : cpu) out.write(t.const_data_ptr(), t.nbytes());
  out.commit();
}

}  // namespace lnb::model
