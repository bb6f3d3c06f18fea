// See fingerprint.h.
#include "model/fingerprint.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <system_error>
#include <vector>

#include "common/sha256.h"
#include "model/loader.h"

namespace lnb::model {

namespace fs = std::filesystem;

std::string model_fingerprint(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool safetensors = name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0;
    if (it->is_regular_file() && (name == "config.json" || safetensors)) files.push_back(it->path());
  }
  if (ec) throw ModelLoadError(dir.string() + ": cannot list the model folder (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  std::string stamp = fs::absolute(dir).lexically_normal().string();
  for (const fs::path& f : files)
    stamp += '\n' + f.filename().string() + ' ' + std::to_string(fs::file_size(f)) + ' ' +
             std::to_string(fs::last_write_time(f).time_since_epoch().count());
  static std::mutex mutex;
  static std::map<std::string, std::string> known;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    if (const auto it = known.find(stamp); it != known.end()) return it->second;
  }
  common::Sha256 h;
  for (const fs::path& f : files) h.update(f.filename().string() + '\0' + common::sha256_file(f).sha256 + '\n');
  const std::string digest = h.hex_digest();
  const std::lock_guard<std::mutex> lock(mutex);
  known[stamp] = digest;
  return digest;
}

}  // namespace lnb::model
