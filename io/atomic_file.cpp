#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "io/error.h"

namespace zoo {

void atomic_write(const std::string& path, const std::function<void(const ByteSink&)>& write) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw UserError(tmp + ": cannot write: " + std::strerror(errno));
  try {
    write([&](const void* data, size_t size) {
      const char* p = static_cast<const char*>(data);
      while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0) {
          if (errno == EINTR) continue;
          throw UserError(tmp + ": write failed: " + std::strerror(errno));
        }
        p += n;
        size -= static_cast<size_t>(n);
      }
    });
    if (::fsync(fd) != 0) throw UserError(tmp + ": fsync failed: " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    std::remove(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw UserError(path + ": cannot replace: " + why);
  }
}

void atomic_write_text(const std::string& path, const std::string& text) {
  atomic_write(path, [&](const ByteSink& sink) { sink(text.data(), text.size()); });
}

}  // namespace zoo
