#include "io/user_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/error.h"

namespace zoo {

namespace {

std::string kind_of(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

[[noreturn]] void refuse(const std::string& path, const std::string& kind) {
  if (kind == "missing") throw UserError(path + ": missing");
  throw UserError(path + ": is " + kind + ", not a regular file");
}

}  // namespace

std::string describe_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return kind_of(st.st_mode);
  if (errno == ENOENT || errno == ENOTDIR) return "missing";
  return std::string("unreadable (") + std::strerror(errno) + ")";
}

std::string describe_named_file(const std::string& path) {
  const std::string kind = describe_path(path);
  if (kind == "missing") return "names a file that does not exist: " + path;
  return "names " + kind + ", not a regular file: " + path;
}

void require_regular_file(const std::string& path) {
  const std::string kind = describe_path(path);
  if (kind != "a regular file") refuse(path, kind);
}

UserFile::UserFile(const std::string& path, const std::string& what) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. On a
  // regular file it changes nothing.
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) refuse(path, "missing");
    throw UserError(path + ": cannot open (" + what + "): " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    const std::string kind = kind_of(st.st_mode);
    ::close(fd_);
    refuse(path, kind);
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

UserFile::~UserFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string read_user_file(const std::string& path, uint64_t max_bytes, const std::string& what) {
  const UserFile file(path, what);
  if (file.size() > max_bytes)
    throw UserError(path + ": " + std::to_string(file.size()) + " bytes, over the " + std::to_string(max_bytes) +
                    "-byte limit for " + what);
  std::string text(static_cast<size_t>(file.size()), '\0');
  size_t done = 0;
  // The file may shrink while we read (then we return what there is) but never grows the
  // buffer: what was bounded is what is read.
  while (done < text.size()) {
    const ssize_t n = ::read(file.fd(), &text[done], text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw UserError(path + ": read error: " + std::strerror(errno));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  text.resize(done);
  return text;
}

}  // namespace zoo
