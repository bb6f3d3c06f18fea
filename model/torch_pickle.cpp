// See torch_pickle.h.
#include "model/torch_pickle.h"

#include <fstream>

#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include "model/loader.h"

namespace lnb::model {

namespace fs = std::filesystem;

std::vector<std::pair<std::string, at::Tensor>> read_torch_state_dict(const fs::path& file) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(file, ec);
  if (ec) throw ModelLoadError(file.string() + ": cannot read (" + ec.message() + ")");
  if (size > (uintmax_t{64} << 30)) throw ModelLoadError(file.string() + ": " + std::to_string(size) + " bytes, over the 64 GiB a state dict may hold");
  std::vector<char> bytes(static_cast<size_t>(size));
  std::ifstream in(file, std::ios::binary);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    throw ModelLoadError(file.string() + ": cannot read " + std::to_string(size) + " bytes");
  // torch.save's zip starts "PK\3\4"; the legacy (pre-1.6) format is a bare pickle.
  if (size < 4 || bytes[0] != 'P' || bytes[1] != 'K')
    throw ModelLoadError(file.string() + ": expected a torch.save zip archive (starts with PK), found " +
                         (size < 4 ? std::string("a file of ") + std::to_string(size) + " bytes"
                                   : std::string("another format (a legacy torch.save pickle? re-save it with torch >= 1.6)")));
  c10::IValue v;
  try {
    v = torch::jit::pickle_load(bytes);
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (const size_t nl = what.find('\n'); nl != std::string::npos) what.resize(nl);  // c10 appends a backtrace
    throw ModelLoadError(file.string() + ": not a readable torch.save state dict (" + what + ")");
  }
  if (!v.isGenericDict())
    throw ModelLoadError(file.string() + ": expected a dict of name -> tensor at the top, found " + v.tagKind());
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : v.toGenericDict()) {
    if (!item.key().isString())
      throw ModelLoadError(file.string() + ": expected string keys, found a " + item.key().tagKind() + " key");
    const std::string key = item.key().toStringRef();
    if (!item.value().isTensor())
      throw ModelLoadError(file.string() + ": key '" + key + "': expected a tensor, found " + item.value().tagKind());
    out.emplace_back(key, item.value().toTensor());
  }
  return out;
}

}  // namespace lnb::model
