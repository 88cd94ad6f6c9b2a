#include "io/torch_save.h"

#include <caffe2/serialize/inline_container.h>

#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "io/atomic_file.h"
#include "io/error.h"
#include "io/torch_save_types.h"

namespace zoo {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;
using torch_save::storage_types;

// Writing. torch::pickle_save wraps the dict in torch.jit._pickle.restore_type_tag, which Python's
// torch.load(weights_only=True) (the default from PyTorch 2.6, and what transformers uses)
// refuses. So write the plain protocol-2 pickle that Python's torch.save writes for a dict.
namespace {

class PickleWriter {
 public:
  std::string bytes = "\x80\x02";  // PROTO 2

  void op(char c) { bytes += c; }
  void global(const std::string& module, const std::string& name) {
    bytes += 'c' + module + '\n' + name + '\n';
  }
  void text(const std::string& s) {  // BINUNICODE
    op('X');
    little_endian(s.size(), 4);
    bytes += s;
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      op('K');
      little_endian(static_cast<uint64_t>(v), 1);
    } else if (v >= std::numeric_limits<int32_t>::min() &&
               v <= std::numeric_limits<int32_t>::max()) {
      op('J');
      little_endian(static_cast<uint32_t>(static_cast<int32_t>(v)), 4);
    } else {
      bytes += "\x8a\x08";  // LONG1, 8 bytes
      little_endian(static_cast<uint64_t>(v), 8);
    }
  }
  void integers(c10::IntArrayRef values) {
    op('(');
    for (const auto v : values) integer(v);
    op('t');
  }

 private:
  void little_endian(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes += static_cast<char>((v >> (8 * i)) & 0xff);
  }
};

std::string storage_type_name(const std::string& path, torch::Dtype dtype) {
  for (const auto& [name, type] : storage_types())
    if (type == dtype) return name;
  throw UserError(path + ": cannot save tensors of type " + c10::toString(dtype));
}

}  // namespace

void write_torch_tensor_dict(const std::string& path, const NamedTensors& entries) {
  PickleWriter p;
  std::vector<torch::Tensor> storages;  // record data/<i>
  // Tensors with the same data (tied weights) share one storage, as in Python.
  std::map<std::tuple<const void*, int64_t, torch::Dtype>, size_t> storage_of;
  p.op('}');
  p.op('(');
  for (const auto& [name, tensor] : entries) {
    const auto key = std::make_tuple(tensor.data_ptr(), tensor.numel(), tensor.scalar_type());
    const auto [slot, fresh] = storage_of.emplace(key, storages.size());
    if (fresh) storages.push_back(tensor.detach().cpu().contiguous());
    const auto& stored = storages[slot->second];
    p.text(name);
    // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.op('(');
    p.op('(');  // persistent id: ('storage', torch.FloatStorage, key, location, numel)
    p.text("storage");
    p.global("torch", storage_type_name(path, stored.scalar_type()));
    p.text(std::to_string(slot->second));
    p.text("cpu");
    p.integer(stored.numel());
    p.op('t');
    p.op('Q');  // BINPERSID
    p.integer(0);
    p.integers(tensor.sizes());
    p.integers(stored.view(tensor.sizes()).strides());
    p.op('\x89');  // False
    p.global("collections", "OrderedDict");
    p.op(')');
    p.op('R');
    p.op('t');
    p.op('R');
  }
  p.op('u');  // SETITEMS
  p.op('.');  // STOP

  std::string zip;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
    zip.append(static_cast<const char*>(data), size);
    return size;
  });
  writer.writeRecord("data.pkl", p.bytes.data(), p.bytes.size());
  for (size_t i = 0; i < storages.size(); ++i)
    writer.writeRecord("data/" + std::to_string(i), storages[i].data_ptr(), storages[i].nbytes());
  writer.writeEndOfFile();
  atomic_write(path, [&](const ByteSink& sink) { sink(zip.data(), zip.size()); });
}

}  // namespace zoo
