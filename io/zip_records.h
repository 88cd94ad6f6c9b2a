#pragma once
// The record layer of a torch.save or TorchScript file (a zip archive), checked before LibTorch's
// reader inflates anything: LibTorch allocates each record's *uncompressed* size as the central
// directory states it, so a 195 kB file could ask for gigabytes. Tensor data (<archive>/data/*)
// must be stored uncompressed, as torch.save and torch.jit.save write it, and lie inside the
// file; other records (TorchScript deflates its code) may be deflated but state at most
// kMaxCompressedRecordBytes. No LibTorch: the fuzzer links it alone.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace zoo {

struct ZipRecord {
  std::string name;
  uint64_t offset = 0;  // of its local header
  uint64_t size = 0;    // uncompressed bytes (a stored record's bytes in the file)
};

// At most this many records (a checkpoint has one per storage: BERT-large about 400) and this
// large a central directory.
constexpr uint64_t kMaxZipRecords = 1'000'000;
constexpr uint64_t kMaxZipDirectoryBytes = 256ull << 20;
// A deflated record's uncompressed size: TorchScript code and debug records are kilobytes.
constexpr uint64_t kMaxCompressedRecordBytes = 64ull << 20;

// `read(offset, n)` returns n bytes of the file at offset (callers check the range first).
// Throws UserError("<what>: ...") naming the record at fault.
std::vector<ZipRecord> check_zip_records(uint64_t file_size,
                                         const std::function<std::string(uint64_t, size_t)>& read,
                                         const std::string& what);

// The same for the file at `path` (a regular file, io/user_file.h).
std::vector<ZipRecord> check_zip_file(const std::string& path);

}  // namespace zoo
