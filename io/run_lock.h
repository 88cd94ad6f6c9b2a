#pragma once
// One writer per run directory: an advisory lock (flock) on DIR/.lock, held for the life of the
// object. A trainer takes it exclusively before it writes anything; eval, export and predict take
// it shared. A lock that is held elsewhere is a UserError naming the holder's pid and command
// instead of a wait: two runs in one directory are a mistake to report, not to queue.
#include <string>

namespace zoo {

class RunLock {
 public:
  enum class Mode { kExclusive, kShared };
  // `dir` must exist. `command` is recorded for the message another process would print.
  RunLock(const std::string& dir, Mode mode, const std::string& command);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace zoo
