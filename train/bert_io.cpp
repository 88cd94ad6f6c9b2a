#include "train/bert_io.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "train/atomic_file.h"
#include "train/config.h"

namespace zoo {
namespace {

// (HF state-dict name, our parameter) in HF order: the one place that knows the mapping.
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

void add_linear(NamedTensors& out, const std::string& name, const torch::nn::Linear& linear) {
  out.emplace_back(name + ".weight", linear->weight);
  out.emplace_back(name + ".bias", linear->bias);
}

void add_norm(NamedTensors& out, const std::string& name, const torch::nn::LayerNorm& norm) {
  out.emplace_back(name + ".weight", norm->weight);
  out.emplace_back(name + ".bias", norm->bias);
}

NamedTensors encoder_names(BertModelImpl& bert, const std::string& prefix) {
  NamedTensors out;
  const auto& e = *bert.embeddings;
  out.emplace_back(prefix + "embeddings.word_embeddings.weight", e.word_embeddings->weight);
  out.emplace_back(prefix + "embeddings.position_embeddings.weight", e.position_embeddings->weight);
  out.emplace_back(prefix + "embeddings.token_type_embeddings.weight",
                   e.token_type_embeddings->weight);
  add_norm(out, prefix + "embeddings.LayerNorm", e.layer_norm);
  for (size_t i = 0; i < bert.layers->size(); ++i) {
    const auto& l = *bert.layers->ptr<BertLayerImpl>(i);
    const std::string p = prefix + "encoder.layer." + std::to_string(i) + ".";
    add_linear(out, p + "attention.self.query", l.query);
    add_linear(out, p + "attention.self.key", l.key);
    add_linear(out, p + "attention.self.value", l.value);
    add_linear(out, p + "attention.output.dense", l.attention_output);
    add_norm(out, p + "attention.output.LayerNorm", l.attention_norm);
    add_linear(out, p + "intermediate.dense", l.intermediate);
    add_linear(out, p + "output.dense", l.output);
    add_norm(out, p + "output.LayerNorm", l.output_norm);
  }
  if (!bert.pooler.is_empty()) add_linear(out, prefix + "pooler.dense", bert.pooler);
  return out;
}

// The MLM head; its decoder weight is the word-embedding matrix, named in encoder_names().
NamedTensors head_names(BertForMaskedLMImpl& model) {
  NamedTensors out;
  add_linear(out, "cls.predictions.transform.dense", model.transform);
  add_norm(out, "cls.predictions.transform.LayerNorm", model.transform_norm);
  out.emplace_back("cls.predictions.bias", model.decoder_bias);
  return out;
}

NamedTensors mlm_names(BertForMaskedLMImpl& model, const std::string& prefix = "bert.") {
  auto out = encoder_names(*model.bert, prefix);
  const auto head = head_names(model);
  out.insert(out.end(), head.begin(), head.end());
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

// Names a checkpoint may use for `name`: old TF conversions call LayerNorm's parameters
// gamma/beta, and the output bias also lives under the (tied) decoder.
std::vector<std::string> aliases(const std::string& name) {
  std::vector<std::string> out{name};
  if (ends_with(name, "LayerNorm.weight")) out.push_back(name.substr(0, name.size() - 6) + "gamma");
  if (ends_with(name, "LayerNorm.bias")) out.push_back(name.substr(0, name.size() - 4) + "beta");
  if (name == "cls.predictions.bias") out.push_back("cls.predictions.decoder.bias");
  return out;
}

// Resolves and checks every target before copying any, so a bad file leaves the model untouched.
void load_into(const std::string& path, const std::map<std::string, torch::Tensor>& dict,
               const NamedTensors& targets, const std::set<std::string>& optional,
               const std::function<bool(const std::string&)>& ignorable) {
  std::set<std::string> used;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (ours, theirs)
  for (const auto& [name, param] : targets) {
    const auto names = aliases(name);
    auto found = dict.end();
    for (const auto& alias : names)
      if ((found = dict.find(alias)) != dict.end()) break;
    if (found == dict.end()) {
      if (optional.count(name)) continue;
      throw UserError(path + ": missing key '" + name + "'");
    }
    if (!found->second.sizes().equals(param.sizes()))
      throw UserError(path + ": key '" + found->first + "' has shape " + shape_of(found->second) +
                      ", the model expects " + shape_of(param));
    for (const auto& alias : names) used.insert(alias);
    copies.emplace_back(param, found->second);
  }
  for (const auto& [key, tensor] : dict)
    if (!used.count(key) && !ends_with(key, "position_ids") && !ignorable(key))
      throw UserError(path + ": unexpected key '" + key + "'");
  torch::NoGradGuard no_grad;
  for (auto& [ours, theirs] : copies) ours.copy_(theirs);
}

std::string encoder_prefix(const std::map<std::string, torch::Tensor>& dict) {
  for (const auto& entry : dict)
    if (starts_with(entry.first, "bert.")) return "bert.";
  return "";
}

// TorchScript attribute names cannot contain dots.
std::string script_name(std::string hf_name) {
  for (auto& ch : hf_name)
    if (ch == '.') ch = '_';
  return hf_name;
}

// TorchScript of the encoder, written against the parameter names of encoder_names(); HF
// semantics with dropout left out. The C++ TorchScript compiler has no Python resolver: ATen ops only.
std::string encoder_script(const BertConfig& c, double lowest, bool with_extra) {
  const int64_t h = c.hidden_size, heads = c.num_heads, d_head = h / heads;
  std::ostringstream s;
  s << std::setprecision(17);
  const auto self = [](const std::string& hf_name) { return "self." + script_name(hf_name); };
  std::ostringstream eps;
  eps << std::setprecision(17) << c.layer_norm_eps;
  const auto norm = [&](const std::string& x, const std::string& w, const std::string& b) {
    return "torch.layer_norm(" + x + ", [" + std::to_string(h) + "], " + w + ", " + b + ", " +
           eps.str() + ")";
  };
  const std::string split = ".view([batch, seq_len, " + std::to_string(heads) + ", " +
                            std::to_string(d_head) + "]).transpose(1, 2)";
  s << "def encoder_layer(self, x: Tensor, bias: Tensor, qw: Tensor, qb: Tensor, kw: Tensor, "
       "kb: Tensor, vw: Tensor, vb: Tensor, ow: Tensor, ob: Tensor, n1w: Tensor, n1b: Tensor, "
       "iw: Tensor, ib: Tensor, fw: Tensor, fb: Tensor, n2w: Tensor, n2b: Tensor) -> Tensor:\n"
    << "    batch = x.size(0)\n"
    << "    seq_len = x.size(1)\n"
    << "    q = (torch.linear(x, qw, qb) * " << 1.0 / std::sqrt(static_cast<double>(d_head)) << ")"
    << split << "\n"
    << "    k = torch.linear(x, kw, kb)" << split << "\n"
    << "    v = torch.linear(x, vw, vb)" << split << "\n"
    << "    scores = torch.matmul(q, k.transpose(-2, -1)) + bias\n"
    << "    probs = torch.softmax(scores, -1)\n"
    << "    context = torch.matmul(probs, v).transpose(1, 2).reshape([batch, seq_len, " << h
    << "])\n"
    << "    attended = " << norm("x + torch.linear(context, ow, ob)", "n1w", "n1b") << "\n"
    << "    ffn = torch.linear(torch.gelu(torch.linear(attended, iw, ib)), fw, fb)\n"
    << "    return " << norm("attended + ffn", "n2w", "n2b") << "\n\n";

  const std::string e = "bert.embeddings.";
  // encode(): the encoder's hidden states [B, T, H]; `extra` is added to the embedding output
  // when the model has such an input (the STS exact-match feature), as BertModelImpl does.
  s << "def encode(self, input_ids: Tensor, attention_mask: Tensor, token_type_ids: Tensor"
    << (with_extra ? ", extra: Tensor" : "") << ") -> Tensor:\n"
    << "    seq_len = input_ids.size(1)\n"
    << "    x = torch.embedding(" << self(e + "word_embeddings.weight") << ", input_ids)"
    << " + torch.narrow(" << self(e + "position_embeddings.weight") << ", 0, 0, seq_len)"
    << " + torch.embedding(" << self(e + "token_type_embeddings.weight") << ", token_type_ids)\n"
    << "    x = " << norm("x", self(e + "LayerNorm.weight"), self(e + "LayerNorm.bias")) << "\n"
    << (with_extra ? "    x = x + extra\n" : "")
    << "    bias = (1.0 - attention_mask.to(x.dtype)) * " << lowest << "\n"
    << "    bias = bias.unsqueeze(1).unsqueeze(2)\n";
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "bert.encoder.layer." + std::to_string(i) + ".";
    s << "    x = self.encoder_layer(x, bias";
    for (const char* part : {"attention.self.query", "attention.self.key", "attention.self.value",
                             "attention.output.dense", "attention.output.LayerNorm",
                             "intermediate.dense", "output.dense", "output.LayerNorm"})
      s << ", " << self(p + part + ".weight") << ", " << self(p + part + ".bias");
    s << ")\n";
  }
  s << "    return x\n\n";
  return s.str();
}

}  // namespace

// torch.save files. Python's torch.save writes a zip: data.pkl, a pickle whose tensors refer by
// key to raw little-endian records data/<key>, one per storage; storage types appear as globals.
namespace {

const std::vector<std::pair<std::string, torch::Dtype>>& storage_types() {
  static const std::vector<std::pair<std::string, torch::Dtype>> types = {
      {"FloatStorage", torch::kFloat}, {"DoubleStorage", torch::kDouble},
      {"HalfStorage", torch::kHalf},   {"BFloat16Storage", torch::kBFloat16},
      {"LongStorage", torch::kLong},   {"IntStorage", torch::kInt},
      {"ShortStorage", torch::kShort}, {"CharStorage", torch::kChar},
      {"ByteStorage", torch::kByte},   {"BoolStorage", torch::kBool}};
  return types;
}

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

struct PickleValue;
using PickleRef = std::shared_ptr<PickleValue>;
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

PickleRef make(Kind kind) {
  auto v = std::make_shared<PickleValue>();
  v->kind = kind;
  return v;
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

class TorchSaveReader {
 public:
  explicit TorchSaveReader(const std::string& path)
      : path_(path), zip_(std::make_unique<caffe2::serialize::PyTorchStreamReader>(path)) {
    const auto [data, size] = zip_->getRecord("data.pkl");
    pickle_.assign(static_cast<const char*>(data.get()), size);
  }

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
    return top().get();
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

  // The callables torch.save uses for a dict of tensors; anything else is refused.
  PickleRef reduce(const PickleValue& callable, const PickleValue& args) {
    if (callable.kind != Kind::kGlobal || args.kind != Kind::kTuple) fail("unsupported object");
    const auto& name = callable.text;
    const auto& a = args.items;
    if (name == "collections.OrderedDict" && a.empty()) return make(Kind::kDict);
    if (name == "torch._utils._rebuild_tensor_v2" && a.size() >= 4 && a[0]->kind == Kind::kTensor) {
      const auto& storage = a[0]->tensor;
      return make_tensor(
          torch::empty({0}, storage.options())
              .set_(storage.storage(), integer(a[1]), integers(a[2]), integers(a[3])));
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
      std::memcpy(storage.data_ptr(), data.get(), bytes - bytes % element);
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
};

}  // namespace

std::map<std::string, torch::Tensor> read_torch_tensor_dict(const std::string& path) {
  if (!std::ifstream(path)) throw UserError(path + ": cannot open file");
  PickleRef root;
  try {
    root = TorchSaveReader(path).run();
  } catch (const c10::Error& e) {  // not a zip, missing record, inconsistent tensor geometry
    std::string why = e.what_without_backtrace();
    throw UserError(path + ": cannot read this torch.save file (zip format expected): " +
                    why.substr(0, why.find('\n')));
  }
  if (root->kind != Kind::kDict) throw UserError(path + ": expected a dict of tensors");
  std::map<std::string, torch::Tensor> out;
  for (size_t i = 0; i + 1 < root->items.size(); i += 2) {
    const auto& key = root->items[i];
    const auto& value = root->items[i + 1];
    if (key->kind != Kind::kString) throw UserError(path + ": expected a dict with string keys");
    if (value->kind != Kind::kTensor)
      throw UserError(path + ": entry '" + key->text + "' is not a tensor");
    out[key->text] = value->tensor;
  }
  return out;
}

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

BertConfig read_hf_bert_config(const std::string& path) {
  const Json j = read_json_file(path);
  if (!j.is_object()) throw UserError(path + ": a BERT config must be a JSON object");
  const auto get_int = [&](const char* key, int64_t fallback) -> int64_t {
    if (!j.contains(key)) return fallback;
    if (!j.at(key).is_number_integer())
      throw UserError(path + ": '" + key + "' must be an integer, got " + j.at(key).dump());
    return j.at(key).get<int64_t>();
  };
  const auto get_double = [&](const char* key, double fallback) -> double {
    if (!j.contains(key)) return fallback;
    if (!j.at(key).is_number())
      throw UserError(path + ": '" + key + "' must be a number, got " + j.at(key).dump());
    return j.at(key).get<double>();
  };
  const auto require_string = [&](const char* key, const char* only, const char* why) {
    if (j.contains(key) && !(j.at(key).is_string() && j.at(key).get<std::string>() == only))
      throw UserError(path + ": '" + key + "' is " + j.at(key).dump() + ", only \"" + only +
                      "\" is supported (" + why + ")");
  };
  require_string("hidden_act", "gelu", "the exact erf GELU");
  require_string("position_embedding_type", "absolute", "learned absolute positions");

  // Absent keys take transformers' BertConfig defaults, not ours: that is what HF would load.
  BertConfig c;
  c.vocab_size = get_int("vocab_size", 30522);
  c.hidden_size = get_int("hidden_size", 768);
  c.num_layers = get_int("num_hidden_layers", 12);
  c.num_heads = get_int("num_attention_heads", 12);
  c.intermediate_size = get_int("intermediate_size", 3072);
  c.max_position = get_int("max_position_embeddings", 512);
  c.type_vocab_size = get_int("type_vocab_size", 2);
  c.hidden_dropout = get_double("hidden_dropout_prob", 0.1);
  c.attention_dropout = get_double("attention_probs_dropout_prob", 0.1);
  c.layer_norm_eps = get_double("layer_norm_eps", 1e-12);
  c.initializer_range = get_double("initializer_range", 0.02);
  // null means "no padding token": no embedding row is special.
  c.pad_token_id = j.contains("pad_token_id") && j.at("pad_token_id").is_null()
                       ? -1
                       : get_int("pad_token_id", 0);

  for (const auto& [key, value] : {std::pair<const char*, int64_t>{"vocab_size", c.vocab_size},
                                   {"hidden_size", c.hidden_size},
                                   {"num_hidden_layers", c.num_layers},
                                   {"num_attention_heads", c.num_heads},
                                   {"intermediate_size", c.intermediate_size},
                                   {"max_position_embeddings", c.max_position},
                                   {"type_vocab_size", c.type_vocab_size}})
    if (value <= 0) throw UserError(path + ": '" + key + "' must be positive");
  if (c.hidden_size % c.num_heads != 0)
    throw UserError(path + ": hidden_size " + std::to_string(c.hidden_size) +
                    " is not a multiple of num_attention_heads " + std::to_string(c.num_heads));
  return c;
}

void write_hf_bert_config(const std::string& path, const BertConfig& c) {
  Json j = {{"architectures", {"BertForMaskedLM"}},
            {"model_type", "bert"},
            {"vocab_size", c.vocab_size},
            {"hidden_size", c.hidden_size},
            {"num_hidden_layers", c.num_layers},
            {"num_attention_heads", c.num_heads},
            {"intermediate_size", c.intermediate_size},
            {"hidden_act", "gelu"},
            {"hidden_dropout_prob", c.hidden_dropout},
            {"attention_probs_dropout_prob", c.attention_dropout},
            {"max_position_embeddings", c.max_position},
            {"type_vocab_size", c.type_vocab_size},
            {"initializer_range", c.initializer_range},
            {"layer_norm_eps", c.layer_norm_eps},
            {"position_embedding_type", "absolute"}};
  j["pad_token_id"] = c.pad_token_id >= 0 ? Json(c.pad_token_id) : Json(nullptr);
  write_json_file(path, j);
}

void load_hf_bert_weights(const std::string& path, BertForMaskedLMImpl& model) {
  const auto dict = read_torch_tensor_dict(path);
  const std::string prefix = encoder_prefix(dict);
  // Usually "bert."; without it the encoder names still resolve and the head is reported missing.
  const std::string decoder_weight = "cls.predictions.decoder.weight";
  const auto found = dict.find(decoder_weight);
  if (found != dict.end() && !found->second.sizes().equals(model.decoder_weight().sizes()))
    throw UserError(path + ": key '" + decoder_weight + "' has shape " + shape_of(found->second) +
                    ", the model expects " + shape_of(model.decoder_weight()));
  load_into(path, dict, mlm_names(model, prefix), {}, [&](const std::string& key) {
    // The decoder weight is tied to the word embeddings, loaded above under their own name.
    return key == decoder_weight || starts_with(key, prefix + "pooler.") ||
           starts_with(key, "cls.seq_relationship.");
  });
}

void load_hf_bert_weights(const std::string& path, BertModelImpl& encoder) {
  const auto dict = read_torch_tensor_dict(path);
  const std::string prefix = encoder_prefix(dict);
  const bool has_pooler = !encoder.pooler.is_empty();
  load_into(
      path, dict, encoder_names(encoder, prefix),
      {prefix + "pooler.dense.weight", prefix + "pooler.dense.bias"}, [&](const std::string& key) {
        return starts_with(key, "cls.") || (!has_pooler && starts_with(key, prefix + "pooler."));
      });
}

void save_hf_bert_weights(const std::string& path, BertForMaskedLMImpl& model) {
  auto entries = mlm_names(model);
  entries.emplace_back("cls.predictions.decoder.weight", model.decoder_weight());
  entries.emplace_back("cls.predictions.decoder.bias", model.decoder_bias);
  write_torch_tensor_dict(path, entries);
}

namespace {

// A scripted module holding `params` under dot-free names, with the attribute Python's
// Module.eval()/train() expect.
torch::jit::Module script_module(const std::string& type_name, const NamedTensors& params) {
  torch::jit::Module module("__torch__." + type_name);
  module.register_attribute("training", c10::BoolType::get(), false);
  for (const auto& [name, tensor] : params)
    module.register_parameter(script_name(name), tensor.detach().cpu().clone(), /*is_buffer=*/false);
  return module;
}

// The padding bias, as in BertModelImpl::forward: the dtype's most negative finite value.
double lowest_of(const torch::Tensor& like) {
  double lowest = 0;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, like.scalar_type(), "bert_export_lowest",
                                  [&] { lowest = static_cast<double>(std::numeric_limits<scalar_t>::lowest()); });
  return lowest;
}

std::string self(const std::string& name) { return "self." + script_name(name); }

void save_module(torch::jit::Module& module, const std::string& path) {
  std::ostringstream out;
  module.save(out);
  const std::string bytes = out.str();
  atomic_write(path, [&](const ByteSink& sink) { sink(bytes.data(), bytes.size()); });
}

}  // namespace

void export_bert_mlm_torchscript(BertForMaskedLMImpl& model, const std::string& path) {
  auto module = script_module("ZooBertForMaskedLM", mlm_names(model));
  const BertConfig& c = model.bert->config;
  const std::string t = "cls.predictions.transform.";
  std::ostringstream eps;
  eps << std::setprecision(17) << c.layer_norm_eps;
  module.define(encoder_script(c, lowest_of(model.decoder_bias), /*with_extra=*/false) +
                "def forward(self, input_ids: Tensor, attention_mask: Tensor, token_type_ids: Tensor) -> Tensor:\n"
                "    x = self.encode(input_ids, attention_mask, token_type_ids)\n"
                "    y = torch.gelu(torch.linear(x, " + self(t + "dense.weight") + ", " + self(t + "dense.bias") + "))\n"
                "    y = torch.layer_norm(y, [" + std::to_string(c.hidden_size) + "], " + self(t + "LayerNorm.weight") +
                ", " + self(t + "LayerNorm.bias") + ", " + eps.str() + ")\n"
                "    return torch.linear(y, " + self("bert.embeddings.word_embeddings.weight") + ", " +
                self("cls.predictions.bias") + ")\n");
  save_module(module, path);
}

void export_sts_torchscript(StsModelImpl& model, const std::string& path) {
  NamedTensors params = encoder_names(*model.bert, "bert.");
  const bool cross = model.options.architecture == "cross";
  const bool match = cross && !model.match_embedding.is_empty();
  if (match) params.emplace_back("match_embedding.weight", model.match_embedding->weight);
  if (!cross) add_linear(params, "pair_mlp.0", torch::nn::Linear(model.pair_mlp->ptr<torch::nn::LinearImpl>(0)));
  add_linear(params, "out", model.out);
  auto module = script_module("ZooSts", params);
  // Class values min..max for the distribution head's expectation, as a buffer: TorchScript
  // compiled from C++ cannot name dtypes for torch.arange.
  const auto& o = model.options;
  module.register_buffer("class_values",
                         torch::arange(model.num_classes(), model.out->weight.options()).cpu() + o.min_score);
  std::ostringstream head;
  head << std::setprecision(17);
  head << "    raw = torch.linear(features, self.out_weight, self.out_bias)\n";
  if (o.head == "regression") {
    head << "    raw = raw.squeeze(1)\n";
    head << (o.bound_output ? "    return " : "    return raw\n");
    if (o.bound_output)
      head << o.min_score << " + " << (o.max_score - o.min_score) << " * torch.sigmoid(raw)\n";
  } else {
    head << "    return (torch.softmax(raw, -1) * self.class_values).sum(-1)\n";
  }
  std::string forward;
  if (cross) {
    forward = "def forward(self, input_ids: Tensor, attention_mask: Tensor, token_type_ids: Tensor, match: Tensor) -> Tensor:\n";
    forward += match ? "    x = self.encode(input_ids, attention_mask, token_type_ids, torch.embedding(" +
                           self("match_embedding.weight") + ", match))\n"
                     : "    x = self.encode(input_ids, attention_mask, token_type_ids)\n";
    forward += "    features = torch.tanh(torch.linear(torch.select(x, 1, 0), " + self("bert.pooler.dense.weight") +
               ", " + self("bert.pooler.dense.bias") + "))\n";
  } else {
    forward =
        "def mean_pool(self, ids: Tensor, mask: Tensor) -> Tensor:\n"
        "    x = self.encode(ids, mask, torch.zeros_like(ids))\n"
        "    m = mask.to(x.dtype).unsqueeze(-1)\n"
        "    return (x * m).sum(1) / m.sum(1).clamp_min(1.0)\n\n"
        "def forward(self, ids_a: Tensor, mask_a: Tensor, ids_b: Tensor, mask_b: Tensor) -> Tensor:\n"
        "    u = self.mean_pool(ids_a, mask_a)\n"
        "    v = self.mean_pool(ids_b, mask_b)\n"
        "    features = torch.tanh(torch.linear(torch.cat([u, v, torch.abs(u - v), u * v], 1), " +
        self("pair_mlp.0.weight") + ", " + self("pair_mlp.0.bias") + "))\n";
  }
  module.define(encoder_script(model.bert->config, lowest_of(model.out->weight), match) + forward + head.str());
  save_module(module, path);
}

}  // namespace zoo
