#include "io/zip_records.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "io/error.h"
#include "io/json_text.h"
#include "io/user_file.h"

namespace zoo {

namespace {

constexpr uint32_t kEndOfDirectory = 0x06054b50, kZip64Locator = 0x07064b50, kZip64End = 0x06064b50,
                   kDirectoryEntry = 0x02014b50;
constexpr size_t kEndBytes = 22, kMaxComment = 0xffff, kEntryBytes = 46;

uint64_t le(const std::string& b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

}  // namespace

std::vector<ZipRecord> check_zip_records(uint64_t file_size,
                                         const std::function<std::string(uint64_t, size_t)>& read,
                                         const std::string& what) {
  const auto fail = [&](const std::string& why) -> void { throw UserError(what + ": " + why); };
  if (file_size < kEndBytes) fail("not a zip archive (too short)");
  // The end-of-directory record: the last 22 bytes, or earlier by a comment of up to 64 kB.
  const size_t tail_size = static_cast<size_t>(std::min<uint64_t>(file_size, kEndBytes + kMaxComment));
  const std::string tail = read(file_size - tail_size, tail_size);
  size_t end = std::string::npos;
  for (size_t i = tail_size - kEndBytes + 1; i-- > 0;)
    if (le(tail, i, 4) == kEndOfDirectory) {
      end = i;
      break;
    }
  if (end == std::string::npos) fail("not a zip archive (no end-of-directory record)");
  uint64_t count = le(tail, end + 10, 2), dir_size = le(tail, end + 12, 4), dir_offset = le(tail, end + 16, 4);
  if (count == 0xffff || dir_size == 0xffffffff || dir_offset == 0xffffffff) {
    // Zip64: a locator just before the end record points to the zip64 end record.
    const uint64_t end_at = file_size - tail_size + end;
    if (end_at < 20) fail("zip64 locator missing");
    const std::string locator = read(end_at - 20, 20);
    if (le(locator, 0, 4) != kZip64Locator) fail("zip64 locator missing");
    const uint64_t at = le(locator, 8, 8);
    if (at > file_size || file_size - at < 56) fail("zip64 end record lies outside the file");
    const std::string z = read(at, 56);
    if (le(z, 0, 4) != kZip64End) fail("zip64 end record missing");
    count = le(z, 32, 8), dir_size = le(z, 40, 8), dir_offset = le(z, 48, 8);
  }
  if (count > kMaxZipRecords) fail(std::to_string(count) + " records, over the limit of " + std::to_string(kMaxZipRecords));
  if (dir_size > kMaxZipDirectoryBytes || dir_offset > file_size || dir_size > file_size - dir_offset)
    fail("the zip directory lies outside the file or is too large");
  const std::string dir = read(dir_offset, static_cast<size_t>(dir_size));
  std::vector<ZipRecord> records;
  size_t at = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (dir.size() - at < kEntryBytes || le(dir, at, 4) != kDirectoryEntry)
      fail("zip directory entry " + std::to_string(i) + " is corrupt");
    const uint64_t method = le(dir, at + 10, 2), name_len = le(dir, at + 28, 2), extra_len = le(dir, at + 30, 2),
                   comment_len = le(dir, at + 32, 2);
    uint64_t compressed = le(dir, at + 20, 4), uncompressed = le(dir, at + 24, 4), offset = le(dir, at + 42, 4);
    if (dir.size() - at - kEntryBytes < name_len + extra_len + comment_len)
      fail("zip directory entry " + std::to_string(i) + " is corrupt");
    ZipRecord r;
    r.name = dir.substr(at + kEntryBytes, name_len);
    const std::string where = "record '" + text_excerpt(r.name) + "'";
    // Zip64 sizes and offset live in extra field 0x0001, each present only where its 32-bit
    // field is 0xffffffff, in this order.
    for (size_t e = at + kEntryBytes + name_len, stop = e + extra_len; e + 4 <= stop;) {
      const uint64_t id = le(dir, e, 2), len = le(dir, e + 2, 2);
      if (e + 4 + len > stop) fail(where + ": corrupt extra field");
      if (id == 1) {
        size_t f = e + 4;
        for (uint64_t* field : {&uncompressed, &compressed, &offset})
          if (*field == 0xffffffff) {
            if (f + 8 > e + 4 + len) fail(where + ": corrupt zip64 field");
            *field = le(dir, f, 8);
            f += 8;
          }
      }
      e += 4 + len;
    }
    // Tensor data (<archive>/data/<key>) is stored, as torch.save and torch.jit.save write it,
    // so it lies inside the file; TorchScript deflates its code and debug records, which are
    // small: a compressed record may state at most kMaxCompressedRecordBytes.
    const bool tensor_data = r.name.find("/data/") != std::string::npos || r.name.rfind("data/", 0) == 0;
    if (method != 0 && (method != 8 || tensor_data))
      fail(where + " is compressed (method " + std::to_string(method) +
           "); torch.save stores tensor data uncompressed, and a compressed record could inflate to any size");
    if (offset > file_size || compressed > file_size - offset || (method == 0 && compressed != uncompressed))
      fail(where + ": its stated size (" + std::to_string(uncompressed) + " bytes) or place lies outside the " +
           std::to_string(file_size) + "-byte file");
    if (method == 8 && uncompressed > kMaxCompressedRecordBytes)
      fail(where + " inflates to " + std::to_string(uncompressed) + " bytes, over the " +
           std::to_string(kMaxCompressedRecordBytes) + "-byte limit for a compressed record (a zip bomb?)");
    r.offset = offset;
    r.size = uncompressed;
    records.push_back(std::move(r));
    at += kEntryBytes + name_len + extra_len + comment_len;
  }
  return records;
}

std::vector<ZipRecord> check_zip_file(const std::string& path) {
  const UserFile file(path, "a zip archive");
  return check_zip_records(
      file.size(),
      [&](uint64_t offset, size_t n) {
        std::string bytes(n, '\0');
        size_t done = 0;
        while (done < n) {
          const ssize_t got = ::pread(file.fd(), &bytes[done], n - done, static_cast<off_t>(offset + done));
          if (got < 0 && errno == EINTR) continue;
          if (got < 0) throw UserError(path + ": read error: " + std::strerror(errno));
          if (got == 0) throw UserError(path + ": the file shrank while it was read");
          done += static_cast<size_t>(got);
        }
        return bytes;
      },
      path);
}

}  // namespace zoo
