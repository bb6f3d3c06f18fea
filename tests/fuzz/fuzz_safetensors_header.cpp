// The safetensors header parser on arbitrary bytes, as a file of that size. Invariants:
// only SafetensorsError escapes; on success every tensor lies inside the data region,
// with its byte count equal to dtype x shape, and no two overlap.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "model/safetensors_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto h = lnb::model::parse_safetensors_header(bytes, size, "fuzz");
    uint64_t prev_end = 0;
    for (const auto& t : h.tensors) {
      if (t.end < t.begin || h.data_start + t.end > size) std::abort();
      uint64_t n = lnb::model::st_dtype_size(t.dtype);
      for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
      if (n != t.end - t.begin) std::abort();
      if (t.begin < prev_end && t.begin != t.end) std::abort();
      prev_end = std::max(prev_end, t.end);
    }
  } catch (const lnb::model::SafetensorsError&) {
  }
  return 0;
}
