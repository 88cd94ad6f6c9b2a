#pragma once
// The safetensors container (https://github.com/huggingface/safetensors), without LibTorch:
//   8 bytes   N, little-endian uint64: the header's length
//   N bytes   a JSON object {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]},
//             ..., "__metadata__": {"key": "string"}}, optionally padded with spaces
//   the rest  the data buffer; tensor bytes [b, e) relative to its start, little-endian, C order
// A checkpoint is untrusted input: this layer validates everything a reader relies on, so that
// the tensor layer above only copies bytes. It is what the fuzzer exercises.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace zoo::safetensors {

// The header may not exceed this many bytes (the Python/Rust library's own limit).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr size_t kMaxRank = 32;
// Tensors in one file: BERT-large has 400, the largest published checkpoints a few thousand per
// shard.
constexpr size_t kMaxEntries = 100'000;

struct Entry {
  std::string name;
  std::string dtype;           // F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL
  std::vector<int64_t> shape;  // may be empty (a scalar)
  uint64_t begin = 0, end = 0; // byte range in the data buffer
};

struct Layout {
  std::vector<Entry> entries;                  // in file order of their data
  std::map<std::string, std::string> metadata;  // "__metadata__", string to string
  uint64_t data_start = 0;                     // offset of the data buffer in the file: 8 + N
};

// Bytes per element of a dtype name, or 0 when the name is not one we support.
size_t element_size(const std::string& dtype);

// Validates a whole file held in memory: header length within the file and bounded, the header a
// JSON object with no duplicate names and no unknown fields, known dtypes, non-negative shapes
// whose byte size (without overflow) equals the entry's range, and ranges that tile the data
// buffer exactly (no gap, no overlap, nothing after the last). BOOL bytes must be 0 or 1.
// Throws UserError("<what>: <why>") on the first problem; `what` names the file in messages.
Layout parse(const unsigned char* bytes, size_t size, const std::string& what);

// The header bytes (length prefix included, padded with spaces to a multiple of 8 as the
// Python library does) for entries whose ranges the caller has laid out back to back.
std::string make_header(const std::vector<Entry>& entries,
                        const std::map<std::string, std::string>& metadata);

}  // namespace zoo::safetensors
