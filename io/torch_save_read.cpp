#include "io/torch_save.h"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <deque>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "io/error.h"
#include "io/zip_records.h"
#include "io/torch_save_types.h"

namespace zoo {

namespace {

using torch_save::storage_types;

// "torch.FloatStorage" -> kFloat.
c10::optional<torch::Dtype> storage_dtype(const std::string& global) {
  for (const auto& [name, dtype] : storage_types())
    if (global == "torch." + name) return dtype;
  return c10::nullopt;
}

}  // namespace

// Reading. LibTorch's torch::pickle_load cannot read a Hugging Face checkpoint: it turns the
// OrderedDict that nn.Module.state_dict() returns into None, and it does not know SETITEM
// (one-entry dicts). So this runs the handful of pickle opcodes torch.save emits (protocols 2 to 5)
// and takes the tensor bytes from the zip records. Tensor data is assumed little-endian, as
// torch.save writes it on every platform LibTorch ships for.
namespace {

// Values live in the reader (an arena) and refer to each other by plain pointers: a pickle can
// make a list that contains itself (memo + APPEND), which reference counting would leak, and a
// deep nesting that recursive destruction would overflow the stack on.
struct PickleValue;
using PickleRef = PickleValue*;
struct PickleValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kGlobal, kTuple, kList, kDict, kTensor };
  Kind kind = Kind::kNone;
  int64_t integer = 0;           // kBool, kInt
  double number = 0;             // kFloat
  std::string text;              // kString; kGlobal: "module.name"
  std::vector<PickleRef> items;  // kTuple, kList; kDict: key, value, key, value, ...
  torch::Tensor tensor;          // kTensor (a storage is a flat kTensor too)
};
using Kind = PickleValue::Kind;

// Longest module or name of a STACK_GLOBAL: it joins two strings already on the stack, so
// without a bound a file could double a string's size with every few bytes.
constexpr size_t kMaxGlobalName = 256;

class TorchSaveReader {
 public:
  explicit TorchSaveReader(const std::string& path)
      : path_(path), zip_(std::make_unique<caffe2::serialize::PyTorchStreamReader>(path)) {
    const auto [data, size] = zip_->getRecord("data.pkl");
    pickle_.assign(static_cast<const char*>(data.get()), size);
  }

  PickleRef make(Kind kind) {
    values_.emplace_back();
    values_.back().kind = kind;
    return &values_.back();
  }
  PickleRef make_int(Kind kind, int64_t i) {
    auto v = make(kind);
    v->integer = i;
    return v;
  }
  PickleRef make_text(Kind kind, std::string text) {
    auto v = make(kind);
    v->text = std::move(text);
    return v;
  }
  PickleRef make_items(Kind kind, std::vector<PickleRef> items) {
    auto v = make(kind);
    v->items = std::move(items);
    return v;
  }
  PickleRef make_tensor(torch::Tensor t) {
    auto v = make(Kind::kTensor);
    v->tensor = std::move(t);
    return v;
  }

  // The unpickled object; valid as long as the reader.
  PickleRef run() {
    for (;;) {
      const uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;   // PROTO
        case 0x95: take(8); break;  // FRAME
        case '.':                   // STOP
          if (stack_.size() != 1) fail("corrupt pickle");
          return stack_.back();
        case '(': marks_.push_back(stack_.size()); break;
        case '0': pop(); break;
        case '1': pop_to_mark(); break;
        case '2': push(top()); break;
        case 'N': push(make(Kind::kNone)); break;
        case 0x88: push(make_int(Kind::kBool, 1)); break;
        case 0x89: push(make_int(Kind::kBool, 0)); break;
        case 'J': push(make_int(Kind::kInt, static_cast<int32_t>(little_endian(4)))); break;
        case 'K': push(make_int(Kind::kInt, byte())); break;
        case 'M': push(make_int(Kind::kInt, static_cast<int64_t>(little_endian(2)))); break;
        case 0x8a: {  // LONG1: n-byte two's complement
          const size_t n = byte();
          if (n > 8) fail("integer too large");
          uint64_t v = little_endian(n);
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);
          push(make_int(Kind::kInt, static_cast<int64_t>(v)));
          break;
        }
        case 'G': {  // BINFLOAT: big-endian IEEE double
          uint64_t bits = 0;
          for (int i = 0; i < 8; ++i) bits = bits << 8 | byte();
          auto v = make(Kind::kFloat);
          std::memcpy(&v->number, &bits, sizeof bits);
          push(v);
          break;
        }
        case 'X': push(make_text(Kind::kString, take(little_endian(4)))); break;
        case 0x8c: push(make_text(Kind::kString, take(byte()))); break;
        case ')': push(make(Kind::kTuple)); break;
        case 't': push(make_items(Kind::kTuple, pop_to_mark())); break;
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1..3
          const size_t n = op - 0x84u;
          if (stack_.size() < n) fail("corrupt pickle");
          std::vector<PickleRef> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(make_items(Kind::kTuple, std::move(items)));
          break;
        }
        case ']': push(make(Kind::kList)); break;
        case 'l': push(make_items(Kind::kList, pop_to_mark())); break;
        case 'a': {
          auto v = pop();
          container(Kind::kList)->items.push_back(v);
          break;
        }
        case 'e': {
          const auto vs = pop_to_mark();
          append(Kind::kList, vs);
          break;
        }
        case '}': push(make(Kind::kDict)); break;
        case 'd': push(make_items(Kind::kDict, pop_to_mark())); break;
        case 's': {
          auto v = pop();
          auto k = pop();
          append(Kind::kDict, {k, v});
          break;
        }
        case 'u': {
          const auto kvs = pop_to_mark();
          append(Kind::kDict, kvs);
          break;
        }
        case 'c': {
          const auto module = line();
          push(make_text(Kind::kGlobal, module + "." + line()));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          const auto name = pop(), module = pop();
          if (name->kind != Kind::kString || module->kind != Kind::kString) fail("corrupt pickle");
          if (name->text.size() > kMaxGlobalName || module->text.size() > kMaxGlobalName)
            fail("global name longer than " + std::to_string(kMaxGlobalName) + " bytes");
          push(make_text(Kind::kGlobal, module->text + "." + name->text));
          break;
        }
        case 'R':
        case 0x81: {
          auto args = pop();
          auto callable = pop();
          push(reduce(*callable, *args));
          break;
        }
        case 'b': pop(); break;  // BUILD: the state of an OrderedDict (its _metadata), not needed
        case 'Q': push(persistent_load(*pop())); break;
        case 'q': memo_[byte()] = top(); break;
        case 'r': memo_[little_endian(4)] = top(); break;
        case 0x94: memo_[memo_.size()] = top(); break;  // MEMOIZE
        case 'h': push(memo(byte())); break;
        case 'j': push(memo(little_endian(4))); break;
        default: {
          std::ostringstream why;
          why << "unsupported pickle opcode 0x" << std::hex << int{op};
          fail(why.str());
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw UserError(path_ + ": cannot read this torch.save file: " + why);
  }
  uint8_t byte() {
    if (pos_ >= pickle_.size()) fail("truncated pickle");
    return static_cast<uint8_t>(pickle_[pos_++]);
  }
  uint64_t little_endian(size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t{byte()} << (8 * i);
    return v;
  }
  std::string take(uint64_t n) {
    if (n > pickle_.size() - pos_) fail("truncated pickle");
    pos_ += n;
    return pickle_.substr(pos_ - n, n);
  }
  std::string line() {
    const auto end = pickle_.find('\n', pos_);
    if (end == std::string::npos) fail("truncated pickle");
    std::string s = pickle_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  void push(PickleRef v) { stack_.push_back(std::move(v)); }
  const PickleRef& top() const {
    if (stack_.empty()) fail("corrupt pickle");
    return stack_.back();
  }
  PickleRef pop() {
    auto v = top();
    stack_.pop_back();
    return v;
  }
  std::vector<PickleRef> pop_to_mark() {
    if (marks_.empty() || marks_.back() > stack_.size()) fail("corrupt pickle");
    const auto start = stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back());
    std::vector<PickleRef> items(start, stack_.end());
    stack_.erase(start, stack_.end());
    marks_.pop_back();
    return items;
  }
  PickleValue* container(Kind kind) const {
    if (top()->kind != kind) fail("corrupt pickle");
    return top();
  }
  void append(Kind kind, const std::vector<PickleRef>& values) {
    auto& items = container(kind)->items;
    items.insert(items.end(), values.begin(), values.end());
  }
  PickleRef memo(uint64_t key) const {
    const auto found = memo_.find(key);
    if (found == memo_.end()) fail("corrupt pickle");
    return found->second;
  }
  int64_t integer(const PickleRef& v) const {
    if (v->kind != Kind::kInt) fail("expected an integer");
    return v->integer;
  }
  std::vector<int64_t> integers(const PickleRef& v) const {
    if (v->kind != Kind::kTuple) fail("expected a tuple");
    std::vector<int64_t> out;
    for (const auto& item : v->items) out.push_back(integer(item));
    return out;
  }

  // A tensor must lie inside its storage: set_ would otherwise grow the storage to fit, an
  // allocation of whatever size the file names (and of uninitialised memory).
  void check_view(int64_t storage_numel, int64_t offset, const std::vector<int64_t>& sizes,
                  const std::vector<int64_t>& strides) const {
    if (sizes.size() != strides.size()) fail("tensor sizes and strides differ in length");
    if (offset < 0) fail("negative storage offset");
    int64_t last = offset, numel = 1;  // index of the last element; element count
    for (size_t d = 0; d < sizes.size(); ++d) {
      if (sizes[d] < 0 || strides[d] < 0) fail("negative tensor size or stride");
      int64_t step = 0;
      if (__builtin_mul_overflow(numel, sizes[d], &numel) ||
          (sizes[d] > 0 && (__builtin_mul_overflow(sizes[d] - 1, strides[d], &step) ||
                            __builtin_add_overflow(last, step, &last))))
        fail("tensor too large");
    }
    if (numel > 0 && last >= storage_numel)
      fail("tensor of " + std::to_string(numel) + " elements reaches element " + std::to_string(last) +
           " of a storage of " + std::to_string(storage_numel));
  }

  // The callables torch.save uses for a dict of tensors; anything else is refused.
  PickleRef reduce(const PickleValue& callable, const PickleValue& args) {
    if (callable.kind != Kind::kGlobal || args.kind != Kind::kTuple) fail("unsupported object");
    const auto& name = callable.text;
    const auto& a = args.items;
    if (name == "collections.OrderedDict" && a.empty()) return make(Kind::kDict);
    if (name == "torch._utils._rebuild_tensor_v2" && a.size() >= 4 && a[0]->kind == Kind::kTensor) {
      const auto& storage = a[0]->tensor;
      const int64_t offset = integer(a[1]);
      const auto sizes = integers(a[2]), strides = integers(a[3]);
      check_view(storage.numel(), offset, sizes, strides);
      return make_tensor(torch::empty({0}, storage.options()).set_(storage.storage(), offset, sizes, strides));
    }
    // A Parameter wraps its tensor; a C++ pickle_save tags dicts with their static type.
    if ((name == "torch._utils._rebuild_parameter" ||
         name == "torch.jit._pickle.restore_type_tag") &&
        !a.empty())
      return a[0];
    fail("unsupported object " + name);
  }

  // ('storage', torch.FloatStorage, key, location, numel) -> the record data/<key> as a flat
  // tensor.
  PickleRef persistent_load(const PickleValue& pid) {
    if (pid.kind != Kind::kTuple || pid.items.size() < 3 || pid.items[0]->text != "storage")
      fail("unsupported persistent id");
    const std::string& key = pid.items[2]->text;
    auto found = storages_.find(key);
    if (found == storages_.end()) {
      const auto dtype = storage_dtype(pid.items[1]->text);
      if (!dtype) fail("unsupported storage type " + pid.items[1]->text);
      const auto [data, bytes] = zip_->getRecord("data/" + key);
      const auto element = static_cast<size_t>(c10::elementSize(*dtype));
      auto storage = torch::empty({static_cast<int64_t>(bytes / element)}, *dtype);
      if (bytes >= element) std::memcpy(storage.data_ptr(), data.get(), bytes - bytes % element);  // not into nullptr
      found = storages_.emplace(key, storage).first;  // shared: tied tensors stay tied
    }
    return make_tensor(found->second);
  }

  std::string path_;
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> zip_;
  std::string pickle_;
  size_t pos_ = 0;
  std::vector<PickleRef> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, PickleRef> memo_;
  std::map<std::string, torch::Tensor> storages_;
  std::deque<PickleValue> values_;  // every value made; a deque never moves them
};

}  // namespace

std::map<std::string, torch::Tensor> read_torch_tensor_dict(const std::string& path) {
  // A regular file whose records are stored, each within the file, before LibTorch's zip reader
  // allocates what a record says it holds (io/zip_records.h).
  check_zip_file(path);
  std::map<std::string, torch::Tensor> out;
  try {
    TorchSaveReader reader(path);
    const PickleRef root = reader.run();
    if (root->kind != Kind::kDict) throw UserError(path + ": expected a dict of tensors");
    for (size_t i = 0; i + 1 < root->items.size(); i += 2) {
      const auto& key = root->items[i];
      const auto& value = root->items[i + 1];
      if (key->kind != Kind::kString) throw UserError(path + ": expected a dict with string keys");
      if (value->kind != Kind::kTensor) throw UserError(path + ": entry '" + key->text + "' is not a tensor");
      out[key->text] = value->tensor;
    }
  } catch (const c10::Error& e) {  // not a zip, missing record, inconsistent tensor geometry
    std::string why = e.what_without_backtrace();
    throw UserError(path + ": cannot read this torch.save file (zip format expected): " +
                    why.substr(0, why.find('\n')));
  }
  return out;
}

}  // namespace zoo
