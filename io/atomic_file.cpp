#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "io/error.h"

namespace zoo {

namespace {

// Unique per process and call: two writers of one path never share a temporary file.
std::string temporary_name(const std::string& path) {
  static thread_local std::mt19937_64 random(std::random_device{}());
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%ld.%08llx.tmp", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(random() & 0xffffffffull));
  return path + suffix;
}

}  // namespace

void atomic_write(const std::string& path, const std::function<void(const ByteSink&)>& write) {
  const std::string tmp = temporary_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw UserError(path + ": cannot write: " + std::strerror(errno));
  try {
    write([&](const void* data, size_t size) {
      const char* p = static_cast<const char*>(data);
      while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0) {
          if (errno == EINTR) continue;
          throw UserError(path + ": write failed: " + std::strerror(errno));
        }
        p += n;
        size -= static_cast<size_t>(n);
      }
    });
    if (::fsync(fd) != 0) throw UserError(path + ": write failed (fsync): " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    std::remove(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw UserError(path + ": write failed (close): " + why);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw UserError(path + ": cannot replace: " + why);
  }
}

void atomic_write_text(const std::string& path, const std::string& text) {
  atomic_write(path, [&](const ByteSink& sink) { sink(text.data(), text.size()); });
}

int remove_stale_temporaries(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  int removed = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && it->path().extension() == ".tmp" && fs::remove(it->path(), ec)) ++removed;
  return removed;
}

}  // namespace zoo
