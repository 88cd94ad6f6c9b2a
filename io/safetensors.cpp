#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "io/atomic_file.h"
#include "io/error.h"
#include "io/safetensors_format.h"
#include "io/user_file.h"
#include "io/torch_save.h"

namespace zoo {

namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian; add byte swapping");

const std::map<std::string, torch::Dtype>& dtypes() {
  static const std::map<std::string, torch::Dtype> m = {
      {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
      {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
      {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};
  return m;
}

std::string dtype_name(torch::Dtype t, const std::string& path, const std::string& tensor) {
  for (const auto& [name, type] : dtypes())
    if (type == t) return name;
  throw UserError(path + ": tensor '" + tensor + "' has type " + std::string(c10::toString(t)) +
                  ", which safetensors cannot store");
}

// A read-only mapping of a whole file, unmapped on destruction.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    const UserFile file(path, "a safetensors checkpoint");  // a regular file; a FIFO cannot block
    size_ = static_cast<size_t>(file.size());
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, file.fd(), 0);
      if (p == MAP_FAILED) throw UserError(path + ": cannot map: " + std::strerror(errno));
      data_ = static_cast<const unsigned char*>(p);
    }
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::map<std::string, torch::Tensor> read_safetensors(const std::string& path,
                                                      std::map<std::string, std::string>* metadata) {
  const MappedFile file(path);
  static const unsigned char kEmpty = 0;
  const auto layout = safetensors::parse(file.size() ? file.data() : &kEmpty, file.size(), path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& e : layout.entries) {
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(dtypes().at(e.dtype)));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), file.data() + layout.data_start + e.begin, e.end - e.begin);
    out.emplace(e.name, std::move(t));
  }
  if (metadata) *metadata = layout.metadata;
  return out;
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<safetensors::Entry> entries;
  std::vector<torch::Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    safetensors::Entry e;
    e.name = name;
    e.dtype = dtype_name(t.scalar_type(), path, name);
    e.shape = t.sizes().vec();
    e.begin = offset;
    e.end = offset += t.nbytes();
    entries.push_back(std::move(e));
    data.push_back(std::move(t));
  }
  const std::string header = safetensors::make_header(entries, metadata);
  atomic_write(path, [&](const ByteSink& sink) {
    sink(header.data(), header.size());
    for (const auto& t : data) sink(t.data_ptr(), t.nbytes());
  });
}

std::map<std::string, torch::Tensor> read_weights_file(const std::string& path) {
  return ends_with(path, ".safetensors") ? read_safetensors(path) : read_torch_tensor_dict(path);
}

}  // namespace zoo
