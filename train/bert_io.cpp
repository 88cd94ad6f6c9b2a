#include "train/bert_io.h"

#include <torch/script.h>

#include <algorithm>
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

#include "io/atomic_file.h"
#include "io/safetensors.h"
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
  require_string("model_type", "bert", "BERT's layout; RoBERTa offsets its positions by the padding id");
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

void write_hf_bert_config(const std::string& path, const BertConfig& c, const std::string& architecture) {
  Json j = {{"architectures", {architecture}},
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

bool load_hf_bert_weights(const std::string& path, BertForMaskedLMImpl& model) {
  const auto dict = read_weights_file(path);
  const std::string prefix = encoder_prefix(dict);
  const bool has_head = std::any_of(dict.begin(), dict.end(), [](const auto& entry) {
    return starts_with(entry.first, "cls.predictions.");
  });
  if (!has_head) {  // an encoder (BertModel, sentence-transformers): the head keeps its fresh init
    load_into(path, dict, encoder_names(*model.bert, prefix), {}, [&](const std::string& key) {
      return starts_with(key, prefix + "pooler.") || starts_with(key, "cls.seq_relationship.");
    });
    return false;
  }
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
  return true;
}

void load_hf_bert_weights(const std::string& path, BertModelImpl& encoder) {
  const auto dict = read_weights_file(path);
  const std::string prefix = encoder_prefix(dict);
  const bool has_pooler = !encoder.pooler.is_empty();
  load_into(
      path, dict, encoder_names(encoder, prefix),
      {prefix + "pooler.dense.weight", prefix + "pooler.dense.bias"}, [&](const std::string& key) {
        return starts_with(key, "cls.") || (!has_pooler && starts_with(key, prefix + "pooler."));
      });
}

std::vector<std::pair<std::string, torch::Tensor>> hf_bert_state(BertForMaskedLMImpl& model) { return mlm_names(model); }
std::vector<std::pair<std::string, torch::Tensor>> hf_bert_state(BertModelImpl& encoder) {
  return encoder_names(encoder, "");
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
  const auto& o = model.options;
  const bool cross = o.architecture == "cross";
  const bool cosine = o.head == "cosine";
  const bool match = cross && !model.match_embedding.is_empty();
  if (match) params.emplace_back("match_embedding.weight", model.match_embedding->weight);
  if (!cross && !cosine) add_linear(params, "pair_mlp.0", torch::nn::Linear(model.pair_mlp->ptr<torch::nn::LinearImpl>(0)));
  if (!cosine) add_linear(params, "out", model.out);
  auto module = script_module("ZooSts", params);
  const torch::Tensor like = model.bert->embeddings->word_embeddings->weight;
  // Class values min..max for the distribution head's expectation, as a buffer: TorchScript
  // compiled from C++ cannot name dtypes for torch.arange.
  module.register_buffer("class_values", torch::arange(model.num_classes(), like.options()).cpu() + o.min_score);
  std::ostringstream head;
  head << std::setprecision(17);
  if (cosine) {
    head << "    return " << o.min_score << " + " << (o.max_score - o.min_score) << " * torch.cosine_similarity(u, v, 1)\n";
  } else {
    head << "    raw = torch.linear(features, self.out_weight, self.out_bias)\n";
    if (o.head == "regression") {
      head << "    raw = raw.squeeze(1)\n";
      head << (o.bound_output ? "    return " : "    return raw\n");
      if (o.bound_output) head << o.min_score << " + " << (o.max_score - o.min_score) << " * torch.sigmoid(raw)\n";
    } else {
      head << "    return (torch.softmax(raw, -1) * self.class_values).sum(-1)\n";
    }
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
    // embed(ids, mask) -> [B, H]: the sentence embedding, pooled as sentence-transformers.
    const std::string pool =
        o.pooling == "mean" ? "    m = mask.to(x.dtype).unsqueeze(-1)\n    e = (x * m).sum(1) / m.sum(1).clamp_min(1.0)\n"
        : o.pooling == "cls" ? "    e = torch.select(x, 1, 0)\n"
                             : "    e = torch.amax(x.masked_fill(mask.unsqueeze(-1) == 0, -1e9), [1])\n";
    forward = "def embed(self, ids: Tensor, mask: Tensor) -> Tensor:\n"
              "    x = self.encode(ids, mask, torch.zeros_like(ids))\n" + pool +
              (o.normalize ? "    return e / torch.linalg_vector_norm(e, 2.0, [1], True).clamp_min(1e-12)\n\n" : "    return e\n\n") +
              "def forward(self, ids_a: Tensor, mask_a: Tensor, ids_b: Tensor, mask_b: Tensor) -> Tensor:\n"
              "    u = self.embed(ids_a, mask_a)\n"
              "    v = self.embed(ids_b, mask_b)\n";
    if (!cosine)
      forward += "    features = torch.tanh(torch.linear(torch.cat([u, v, torch.abs(u - v), u * v], 1), " +
                 self("pair_mlp.0.weight") + ", " + self("pair_mlp.0.bias") + "))\n";
  }
  module.define(encoder_script(model.bert->config, lowest_of(like), match) + forward + head.str());
  save_module(module, path);
}

}  // namespace zoo
