// libFuzzer target: the zip record layer of torch.save and TorchScript files (io/zip_records.h),
// checked before LibTorch's reader allocates what a record states. Any bytes give records that
// are stored and lie inside the file, or a one-line UserError naming the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/zip_records.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto read = [&](uint64_t offset, size_t n) {
    zoo::fuzz::require(offset <= size && n <= size - offset, "reads stay inside the file");
    return std::string(reinterpret_cast<const char*>(data) + offset, n);
  };
  try {
    // A stored record lies inside the file; a deflated one (TorchScript's code) may inflate past
    // it, but never beyond the bound.
    for (const auto& r : zoo::check_zip_records(size, read, "model.pt"))
      zoo::fuzz::require(r.offset <= size && (r.size <= size - r.offset || r.size <= zoo::kMaxCompressedRecordBytes),
                         "records lie inside the file or inflate within the bound");
  } catch (const zoo::UserError& e) {
    zoo::fuzz::check_message(e, "model.pt");
  }
  return 0;
}
