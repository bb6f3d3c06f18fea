// Whole-file reads and crash-safe whole-file writes, shared by every layer that writes
// results (reports' pages, training's checkpoints and train.json, the harness's store).
// A write goes to PATH.tmp, is fsync'd and renamed over PATH, so a reader sees the old
// or the new file, never a torn one.
#pragma once

#include <filesystem>
#include <string>

namespace lnb::common {

// Throws std::runtime_error naming the file when it cannot be read.
std::string read_file(const std::filesystem::path& path);

// Throws std::runtime_error naming the file when it cannot be written.
void write_file_atomic(const std::filesystem::path& path, const std::string& text);

}  // namespace lnb::common
