// SHA-256 of bytes and files (OpenSSL's libcrypto, SHA-NI where the CPU has it), as
// lowercase hex. The one content hash of lnbench: task fingerprints, prompt hashes,
// cache keys and checkpoint metadata all use it, so two of them never disagree on
// what "the same content" means. Not a streaming API for untrusted sizes: files are
// read in 1 MiB chunks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace lnb::common {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& update(std::string_view bytes);
  std::string hex_digest();  // finishes the hash; the object cannot be updated after

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_hex(std::string_view bytes);

struct FileDigest {
  std::string sha256;  // lowercase hex
  uint64_t bytes = 0;
};
// Throws std::runtime_error naming the file when it cannot be read.
FileDigest sha256_file(const std::filesystem::path& path);

}  // namespace lnb::common
