// See sha256.h.
#include "common/sha256.h"

#include <array>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <openssl/evp.h>

namespace lnb::common {

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
  bool finished = false;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  if (state_->ctx == nullptr || EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("sha256: OpenSSL could not initialise a SHA-256 context");
}

Sha256::~Sha256() { EVP_MD_CTX_free(state_->ctx); }

Sha256& Sha256::update(std::string_view bytes) {
  if (state_->finished) throw std::logic_error("sha256: update after hex_digest");
  if (EVP_DigestUpdate(state_->ctx, bytes.data(), bytes.size()) != 1)
    throw std::runtime_error("sha256: EVP_DigestUpdate failed");
  return *this;
}

std::string Sha256::hex_digest() {
  if (state_->finished) throw std::logic_error("sha256: hex_digest called twice");
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(state_->ctx, md.data(), &n) != 1) throw std::runtime_error("sha256: EVP_DigestFinal_ex failed");
  state_->finished = true;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (unsigned int i = 0; i < n; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) { return Sha256().update(bytes).hex_digest(); }

FileDigest sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open it to hash");
  Sha256 h;
  FileDigest d;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = in.gcount();
    if (got <= 0) break;
    h.update(std::string_view(buf.data(), static_cast<size_t>(got)));
    d.bytes += static_cast<uint64_t>(got);
  }
  if (in.bad()) throw std::runtime_error(path.string() + ": read error while hashing");
  d.sha256 = h.hex_digest();
  return d;
}

}  // namespace lnb::common
