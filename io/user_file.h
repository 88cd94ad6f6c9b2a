#pragma once
// Opening and reading files users hand us, one way for every reader: the path must name a regular
// file (links are followed; a directory, FIFO, device or socket is refused by what it is), it is
// opened with O_NONBLOCK so that a FIFO cannot block open(), and its size is bounded before a
// byte is read. No LibTorch: the tokenizer and the fuzzers link it alone.
#include <cstdint>
#include <string>

namespace zoo {

// Bounds for the small files we read whole (configs, a checkpoint's settings, meta.json,
// vocab.txt): far above any real one (BERT's vocab.txt is 230 kB, a large tokenizer_config.json a
// few MB), far below what would hurt.
constexpr uint64_t kMaxSettingsFileBytes = 64ull << 20;

// What is at `path`, for messages: "missing", "a directory", "a FIFO", "a character device",
// "a block device", "a socket", "a regular file", or "unreadable (<errno text>)". Follows links.
std::string describe_path(const std::string& path);

// For an error about a config key that names a file: "names a file that does not exist: PATH", or
// "names a directory, not a regular file: PATH" (a FIFO, a device: the same), never "missing"
// for a path that exists.
std::string describe_named_file(const std::string& path);

// Throws UserError("PATH: missing" or "PATH: is a FIFO, not a regular file") unless `path` is a
// regular file (after links). For files a library opens itself (TorchScript, torch.save zips).
void require_regular_file(const std::string& path);

// An open regular file: refused as above when it is anything else; `what` names its use in
// other errors. Closed on destruction.
class UserFile {
 public:
  UserFile(const std::string& path, const std::string& what);
  ~UserFile();
  UserFile(const UserFile&) = delete;
  UserFile& operator=(const UserFile&) = delete;
  int fd() const { return fd_; }
  uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
};

// The whole file at `path`; refused before reading when it is not a regular file or is larger
// than `max_bytes` ("PATH: 80000000 bytes, over the 67108864-byte limit for a config"). `what`
// says what the file is for ("a config", "a vocabulary").
std::string read_user_file(const std::string& path, uint64_t max_bytes, const std::string& what);

}  // namespace zoo
