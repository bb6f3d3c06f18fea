// common/file_io and atomic_file: a write that fails (here: RLIMIT_FSIZE, what a full
// disk looks like to write(2)) leaves the old file whole and no temporary file behind,
// and says which path and why; reads tell a missing file and a directory apart.
#include "common/file_io.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/atomic_file.h"
#include "common/errors.h"

namespace lnb::common {
namespace {

namespace fs = std::filesystem;

struct Dir {
  fs::path path = fs::temp_directory_path() / ("lnb_file_io_" + std::to_string(::getpid()));
  Dir() { fs::remove_all(path), fs::create_directories(path); }
  ~Dir() { fs::remove_all(path); }
  size_t entries() const { return static_cast<size_t>(std::distance(fs::directory_iterator(path), fs::directory_iterator())); }
};

// Lowers the file-size limit for the scope (and ignores SIGXFSZ, so write(2) fails with EFBIG).
struct FileSizeLimit {
  rlimit old{};
  explicit FileSizeLimit(rlim_t bytes) {
    ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old);
    rlimit r = old;
    r.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() { ::setrlimit(RLIMIT_FSIZE, &old); }
};

TEST(FileIo, WriteReplacesWholeAndReadsBack) {
  const Dir d;
  write_file_atomic(d.path / "a.json", "first");
  write_file_atomic(d.path / "a.json", "second");
  EXPECT_EQ(read_file(d.path / "a.json"), "second");
  EXPECT_EQ(d.entries(), 1u);
}

TEST(FileIo, AFailedWriteKeepsTheOldFileAndLeavesNoTemporary) {
  const Dir d;
  write_file_atomic(d.path / "metrics.json", "finished");
  {
    const FileSizeLimit limit(4096);
    try {
      write_file_atomic(d.path / "metrics.json", std::string(1 << 20, 'x'));
      FAIL() << "a write beyond RLIMIT_FSIZE succeeded";
    } catch (const EnvironmentError& e) {
      EXPECT_NE(std::string(e.what()).find((d.path / "metrics.json").string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("File too large"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(read_file(d.path / "metrics.json"), "finished");
  EXPECT_EQ(d.entries(), 1u) << "no .tmp left";
}

TEST(FileIo, AnUncommittedAtomicFileLeavesNothing) {
  const Dir d;
  {
    AtomicFile f(d.path / "big.safetensors");
    f.write("partial");
  }  // an exception between write and commit lands here
  EXPECT_EQ(d.entries(), 0u);
}

TEST(FileIo, ReadsTellMissingFromDirectory) {
  const Dir d;
  fs::create_directories(d.path / "sub");
  try {
    read_file(d.path / "sub");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.info().got, "a directory");
  }
  try {
    read_file(d.path / "nope.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.info().got, "no such file");
  }
  EXPECT_THROW(write_file_atomic(d.path / "sub", "x"), InputError);
}

}  // namespace
}  // namespace lnb::common
