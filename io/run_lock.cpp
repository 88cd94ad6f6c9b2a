#include "io/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/error.h"

namespace zoo {

RunLock::RunLock(const std::string& dir, Mode mode, const std::string& command) {
  const std::string path = dir + "/.lock";
  const bool exclusive = mode == Mode::kExclusive;
  // A reader needs no write access: a run copied read-only (or made before locks) still opens.
  if (!exclusive) fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0 && !exclusive) return;  // read-only and never locked: no trainer can be writing it
  if (fd_ < 0) throw UserError(path + ": cannot open the run directory's lock: " + std::strerror(errno));
  if (::flock(fd_, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder(256, '\0');
    const ssize_t n = ::pread(fd_, holder.data(), holder.size() - 1, 0);
    holder.resize(n > 0 ? static_cast<size_t>(n) : 0);
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) throw UserError(path + ": cannot lock: " + std::strerror(err));
    throw UserError(dir + " is in use by " + (holder.empty() ? std::string("another process") : holder) +
                    (exclusive ? "; one process at a time may write a run directory" : "; try again when it has finished"));
  }
  if (exclusive) {  // who holds it, for the message above
    const std::string me = "pid " + std::to_string(::getpid()) + " (" + command + ")\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
      // The lock holds without the note; only the message of a second process is poorer.
    }
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace zoo
