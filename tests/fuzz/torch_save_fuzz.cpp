// libFuzzer target: the torch.save reader (read_torch_tensor_dict), which a checkpoint or a
// downloaded pytorch_model.bin reaches. Two kinds of input:
//   * bytes starting with "PK" are the whole file (the zip layer);
//   * anything else is data.pkl, the pickle, zipped here with two storage records data/0 (16
//     bytes) and data/1 (6 bytes), so that mutations reach the pickle machine instead of failing
//     the zip's CRC checks.
// A read returns tensors that lie inside their storages or throws a UserError naming the file; it
// never crashes, hangs, leaks or allocates more than the file's size allows.
#include <caffe2/serialize/inline_container.h>

#include <cstddef>
#include <cstdint>

#include "io/error.h"
#include "io/torch_save.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file;
  if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
    file.assign(reinterpret_cast<const char*>(data), size);
  } else {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* bytes, size_t n) {
      file.append(static_cast<const char*>(bytes), n);
      return n;
    });
    const uint8_t storage[16] = {0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64};  // 1 2 3 4 as floats
    writer.writeRecord("data.pkl", data, size);
    writer.writeRecord("data/0", storage, 16);
    writer.writeRecord("data/1", storage, 6);
    writer.writeEndOfFile();
  }
  const std::string path = zoo::fuzz::write_file("weights.pt", file.data(), file.size());
  try {
    for (const auto& [name, tensor] : zoo::read_torch_tensor_dict(path)) {
      // Reads every element (ASan sees a view that leaves its storage); huge stride-0 views are
      // legal (an expanded tensor) but not worth summing.
      if (tensor.numel() <= (1 << 16)) (void)tensor.contiguous().to(torch::kDouble).sum().item<double>();
    }
  } catch (const zoo::UserError& e) {
    zoo::fuzz::check_message(e, path);
  }
  return 0;
}
