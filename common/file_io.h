// Whole-file reads and crash-safe whole-file writes, shared by every layer that writes
// results (reports' pages, training's checkpoints and train.json, the harness's store,
// score task's outputs). A write goes to PATH.tmp.PID, is fsync'd, renamed over PATH
// and the folder fsync'd, so a reader sees the old or the new file, never a torn one;
// on any failure the temporary file is removed and the old PATH is left as it was.
#pragma once

#include <filesystem>
#include <string>

namespace lnb::common {

// InputError (errors.h) for a missing file or a directory; EnvironmentError naming the
// file and errno's text when reading fails.
std::string read_file(const std::filesystem::path& path);

// EnvironmentError naming the file and errno's text (ENOSPC, EFBIG, EACCES, ...);
// InputError when PATH is a directory.
void write_file_atomic(const std::filesystem::path& path, const std::string& text);

}  // namespace lnb::common
