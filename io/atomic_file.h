#pragma once
// Files that are either fully written or not there at all: write to a temporary file next to the
// target ("<path>.<pid>.<random>.tmp", unique per writer), fsync, then rename over the target. A
// crash, a full disk or a kill during a save leaves the previous file intact; a failed write
// removes its temporary file, and remove_stale_temporaries() clears those a killed process left.
#include <cstddef>
#include <functional>
#include <string>

namespace zoo {

// `write` receives a sink to call with consecutive chunks of the file's bytes. Errors (ENOSPC,
// EIO, ...) are UserErrors naming the file and the cause.
using ByteSink = std::function<void(const void* data, size_t size)>;
void atomic_write(const std::string& path, const std::function<void(const ByteSink&)>& write);
void atomic_write_text(const std::string& path, const std::string& text);

// Removes the "*.tmp" files directly in `dir` (none of ours is ever complete); returns how many.
// Call it only while no other process writes there (the run directory's lock).
int remove_stale_temporaries(const std::string& dir);

// Directories are all-or-nothing the same way: built in temporary_directory(path)
// ("<path>.<pid>.<random>.tmp", created empty), then put in place of `path` in one step by
// replace_directory(): a reader sees the old directory or the new one, never a mix, and a kill
// at any point leaves the old one whole. remove_abandoned_directories(path) removes the
// temporary directories of `path` whose process is gone; returns how many.
std::string temporary_directory(const std::string& path);
void replace_directory(const std::string& from, const std::string& path);
int remove_abandoned_directories(const std::string& path);

}  // namespace zoo
