// The safetensors header (huggingface/safetensors format): an 8-byte little-endian
// length N, then N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__": {str: str}}, then the data. This part is torch-free (it is fuzzed
// in the torch-free build); model/safetensors.h maps tensors on top of it.
//
// Everything is validated: header length bound and inside the file, JSON, known
// dtypes, non-negative shapes, offsets inside the data region, no overlaps, and
// dtype x shape = byte count. A broken file is a SafetensorsError naming the file
// and, where one is involved, the tensor.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace lnb::model {

enum class StDtype { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool, kF8E4M3, kF8E5M2 };

// "F32" <-> kF32 etc.; bytes per element.
std::string_view to_string(StDtype d);
bool parse_st_dtype(std::string_view s, StDtype* out);
size_t st_dtype_size(StDtype d);

class SafetensorsError : public std::runtime_error {
 public:
  SafetensorsError(std::string file, std::string tensor, const std::string& what)
      : std::runtime_error(file + (tensor.empty() ? "" : ": tensor '" + tensor + "'") + ": " + what),
        file_(std::move(file)), tensor_(std::move(tensor)) {}
  const std::string& file() const { return file_; }
  const std::string& tensor() const { return tensor_; }

 private:
  std::string file_, tensor_;
};

struct StTensorInfo {
  std::string name;
  StDtype dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // relative to the start of the data region
};

struct SafetensorsHeader {
  std::vector<StTensorInfo> tensors;  // in ascending data offset
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;            // 8 + N
};

inline constexpr uint64_t kMaxSafetensorsHeader = 100u << 20;  // the format's own bound

// Parses and validates the header of a file whose first bytes are `prefix` (at least
// 8 + N of them) and whose total size is `file_size`. `file` names it in errors.
SafetensorsHeader parse_safetensors_header(std::string_view prefix, uint64_t file_size, const std::string& file);

// The header bytes (length prefix + JSON padded with spaces to a multiple of 8) for
// tensors laid out back to back in the given order; fills each info's offsets.
std::string make_safetensors_header(std::vector<StTensorInfo>& tensors, const std::map<std::string, std::string>& metadata);

}  // namespace lnb::model
