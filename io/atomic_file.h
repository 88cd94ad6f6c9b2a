#pragma once
// Files that are either fully written or not there at all: write to "<path>.tmp", fsync, then
// rename over the target. A crash during a save leaves the previous file intact.
#include <cstddef>
#include <functional>
#include <string>

namespace zoo {

// `write` receives a sink to call with consecutive chunks of the file's bytes.
using ByteSink = std::function<void(const void* data, size_t size)>;
void atomic_write(const std::string& path, const std::function<void(const ByteSink&)>& write);
void atomic_write_text(const std::string& path, const std::string& text);

}  // namespace zoo
