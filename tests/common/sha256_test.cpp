// SHA-256 against the FIPS 180-2 test vectors and across chunk boundaries.
#include "common/sha256.h"

#include <fstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

namespace lnb::common {
namespace {

TEST(Sha256, FipsVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  Sha256 h;
  h.update("ab").update("").update("c");
  EXPECT_EQ(h.hex_digest(), sha256_hex("abc"));
  EXPECT_THROW(h.update("x"), std::logic_error);
}

TEST(Sha256, FileSpanningSeveralChunks) {
  // One million 'a' (FIPS 180-2 vector) plus a 2 MiB + 3 byte file read in 1 MiB chunks.
  const auto dir = std::filesystem::temp_directory_path() / ("lnb_sha_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "a") << std::string(1000000, 'a');
  }
  const FileDigest d = sha256_file(dir / "a");
  EXPECT_EQ(d.sha256, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(d.bytes, 1000000u);
  std::string big((2u << 20) + 3, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + 7);
  {
    std::ofstream(dir / "b", std::ios::binary) << big;
  }
  EXPECT_EQ(sha256_file(dir / "b").sha256, sha256_hex(big));
  EXPECT_THROW(sha256_file(dir / "missing"), std::runtime_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lnb::common
