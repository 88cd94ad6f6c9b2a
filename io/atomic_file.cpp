#include "io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
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

std::string temporary_directory(const std::string& path) {
  const std::string tmp = temporary_name(path);
  std::error_code ec;
  if (!std::filesystem::create_directory(tmp, ec) || ec)
    throw UserError(tmp + ": cannot create: " + (ec ? ec.message() : "exists"));
  return tmp;
}

void replace_directory(const std::string& from, const std::string& path) {
  namespace fs = std::filesystem;
  // Swapped atomically where the old one exists; `from` then names the old one, removed after.
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0) {
    std::error_code ec;
    fs::remove_all(from, ec);
    return;
  }
  const int exchange_errno = errno;
  if (exchange_errno != ENOENT && exchange_errno != EINVAL && exchange_errno != ENOSYS)
    throw UserError(path + ": cannot replace: " + std::strerror(exchange_errno));
  // No old one (ENOENT), or a file system without RENAME_EXCHANGE: the old one is moved aside
  // first, so a kill in between leaves it under "<path>.<pid>.<random>.tmp", and no mix.
  std::string aside;
  std::error_code ec;
  if (exchange_errno != ENOENT && fs::exists(path, ec)) {
    aside = temporary_name(path);
    if (std::rename(path.c_str(), aside.c_str()) != 0)
      throw UserError(path + ": cannot replace: " + std::strerror(errno));
  }
  if (std::rename(from.c_str(), path.c_str()) != 0) throw UserError(path + ": cannot replace: " + std::strerror(errno));
  if (!aside.empty()) fs::remove_all(aside, ec);
}

int remove_abandoned_directories(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const std::string prefix = target.filename().string() + ".";
  std::error_code ec;
  int removed = 0;
  for (fs::directory_iterator it(target.parent_path().empty() ? "." : target.parent_path(), ec), end;
       !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!it->is_directory(ec) || name.compare(0, prefix.size(), prefix) != 0 || it->path().extension() != ".tmp")
      continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    // Alive (or not ours to signal): left alone. Gone: its directory can never be completed.
    if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code remove_ec;
    if (fs::remove_all(it->path(), remove_ec) > 0) ++removed;
  }
  return removed;
}

}  // namespace zoo
