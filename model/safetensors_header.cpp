// See safetensors_header.h.
#include "model/safetensors_header.h"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>
#include "common/json_io.h"

namespace lnb::model {
namespace {

struct DtypeName {
  StDtype dtype;
  std::string_view name;
  size_t size;
};
constexpr DtypeName kDtypes[] = {
    {StDtype::kF64, "F64", 8},  {StDtype::kF32, "F32", 4},   {StDtype::kF16, "F16", 2},
    {StDtype::kBF16, "BF16", 2}, {StDtype::kI64, "I64", 8},  {StDtype::kI32, "I32", 4},
    {StDtype::kI16, "I16", 2},  {StDtype::kI8, "I8", 1},     {StDtype::kU8, "U8", 1},
    {StDtype::kBool, "BOOL", 1}, {StDtype::kF8E4M3, "F8_E4M3", 1}, {StDtype::kF8E5M2, "F8_E5M2", 1},
};

}  // namespace

std::string_view to_string(StDtype d) {
  for (const auto& k : kDtypes)
    if (k.dtype == d) return k.name;
  return "?";
}

bool parse_st_dtype(std::string_view s, StDtype* out) {
  for (const auto& k : kDtypes)
    if (k.name == s) {
      *out = k.dtype;
      return true;
    }
  return false;
}

size_t st_dtype_size(StDtype d) {
  for (const auto& k : kDtypes)
    if (k.dtype == d) return k.size;
  return 0;
}

SafetensorsHeader parse_safetensors_header(std::string_view prefix, uint64_t file_size, const std::string& file) {
  if (prefix.size() < 8 || file_size < 8)
    throw SafetensorsError(file, "", "expected an 8-byte header length, got a file of " + std::to_string(file_size) + " bytes");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(prefix[i]);
  if (n > kMaxSafetensorsHeader)
    throw SafetensorsError(file, "", "header length " + std::to_string(n) + " exceeds the format's 100 MB bound");
  if (8 + n > file_size)
    throw SafetensorsError(file, "", "header length " + std::to_string(n) + " runs past the end of the file (" +
                                         std::to_string(file_size) + " bytes)");
  if (prefix.size() < 8 + n) throw SafetensorsError(file, "", "internal: header prefix too short");
  nlohmann::json j;
  try {
    j = common::parse_json(std::string_view(prefix).substr(8, n), "header");
  } catch (const std::exception& e) {
    throw SafetensorsError(file, "", std::string("header is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw SafetensorsError(file, "", "header: expected a JSON object, got " + std::string(j.type_name()));
  SafetensorsHeader h;
  h.data_start = 8 + n;
  const uint64_t data_size = file_size - h.data_start;
  for (const auto& [name, v] : j.items()) {
    if (name == "__metadata__") {
      if (!v.is_object()) throw SafetensorsError(file, "", "__metadata__: expected an object of strings");
      for (const auto& [k, s] : v.items()) {
        if (!s.is_string()) throw SafetensorsError(file, "", "__metadata__." + k + ": expected a string, got " + s.dump());
        h.metadata[k] = s.get<std::string>();
      }
      continue;
    }
    const std::string& tensor_name = name;  // clang 14 cannot capture a structured binding
    auto fail = [&](const std::string& what) { return SafetensorsError(file, tensor_name, what); };
    if (!v.is_object()) throw fail("expected an object {dtype, shape, data_offsets}");
    StTensorInfo t;
    t.name = name;
    if (!v.contains("dtype") || !v["dtype"].is_string() || !parse_st_dtype(v["dtype"].get<std::string>(), &t.dtype))
      throw fail("dtype: expected one of F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL F8_E4M3 F8_E5M2, got " +
                 (v.contains("dtype") ? v["dtype"].dump() : std::string("none")));
    if (!v.contains("shape") || !v["shape"].is_array()) throw fail("shape: expected a list of dimensions");
    uint64_t elements = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0))
        throw fail("shape: expected non-negative integers, got " + v["shape"].dump());
      const uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && elements > std::numeric_limits<uint64_t>::max() / dim) throw fail("shape: element count overflows");
      elements *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2 ||
        !v["data_offsets"][0].is_number_unsigned() || !v["data_offsets"][1].is_number_unsigned())
      throw fail("data_offsets: expected [begin, end] of non-negative integers");
    t.begin = v["data_offsets"][0].get<uint64_t>();
    t.end = v["data_offsets"][1].get<uint64_t>();
    if (t.begin > t.end || t.end > data_size)
      throw fail("data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                 "] outside the data region of " + std::to_string(data_size) + " bytes");
    const uint64_t item = st_dtype_size(t.dtype);
    if (elements > std::numeric_limits<uint64_t>::max() / item || elements * item != t.end - t.begin)
      throw fail(std::string(to_string(t.dtype)) + " " + v["shape"].dump() + " needs " + std::to_string(elements * item) +
                 " bytes, data_offsets give " + std::to_string(t.end - t.begin));
    h.tensors.push_back(std::move(t));
  }
  std::sort(h.tensors.begin(), h.tensors.end(), [](const StTensorInfo& a, const StTensorInfo& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  for (size_t i = 1; i < h.tensors.size(); ++i)
    if (h.tensors[i].begin < h.tensors[i - 1].end && h.tensors[i].begin != h.tensors[i].end)
      throw SafetensorsError(file, h.tensors[i].name, "data overlaps tensor '" + h.tensors[i - 1].name + "'");
  return h;
}

std::string make_safetensors_header(std::vector<StTensorInfo>& tensors, const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!metadata.empty()) j["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (StTensorInfo& t : tensors) {
    uint64_t bytes = st_dtype_size(t.dtype);
    for (int64_t d : t.shape) bytes *= static_cast<uint64_t>(d);
    t.begin = offset;
    t.end = offset + bytes;
    offset = t.end;
    j[t.name] = {{"dtype", std::string(to_string(t.dtype))}, {"shape", t.shape}, {"data_offsets", {t.begin, t.end}}};
  }
  std::string json = j.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + json;
}

}  // namespace lnb::model
