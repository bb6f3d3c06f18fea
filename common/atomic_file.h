// The one checked, atomic writer for files written piece by piece (safetensors with
// gigabytes of tensors): PATH.tmp.PID is written, fsync'd and renamed over PATH on
// commit(); a failed write, a destructor without commit() or an exception leaves PATH
// as it was and removes the temporary file. Errors are EnvironmentError naming PATH and
// errno's text. write_file_atomic (file_io.h) is this for a whole string.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace lnb::common {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);  // InputError when PATH is a directory
  ~AtomicFile();                                    // not committed: the temporary file is removed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  void commit();  // fsync, close, rename, fsync the folder

 private:
  [[noreturn]] void fail(const char* what);
  std::filesystem::path path_, tmp_;
  int fd_ = -1;
};

}  // namespace lnb::common
