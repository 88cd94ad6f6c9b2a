#include "io/formats/bert_script.h"

#include <torch/script.h>

#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "io/formats/torchscript.h"
#include "io/formats/hf_bert.h"

namespace zoo {
namespace {

// TorchScript of the encoder, written against the parameter names of hf_bert_state(); HF
// semantics with dropout left out. The C++ TorchScript compiler has no Python resolver: ATen ops only.
std::string encoder_script(const BertConfig& c, double lowest, bool with_extra) {
  const int64_t h = c.hidden_size, heads = c.num_heads, d_head = h / heads;
  std::ostringstream s;
  s << std::setprecision(17);
  const auto self = [](const std::string& hf_name) { return "self." + script_attribute_name(hf_name); };
  std::ostringstream eps;
  eps << std::setprecision(17) << c.layer_norm_eps;
  const auto norm = [&](const std::string& x, const std::string& w, const std::string& b) {
    return "torch.layer_norm(" + x + ", [" + std::to_string(h) + "], " + w + ", " + b + ", " +
           eps.str() + ")";
  };
  const std::string in = c.norm_first ? "y" : "x";  // the sublayers' input: normalised x in pre-LN
  const std::string split = ".view([batch, seq_len, " + std::to_string(heads) + ", " +
                            std::to_string(d_head) + "]).transpose(1, 2)";
  s << "def encoder_layer(self, x: Tensor, bias: Tensor, qw: Tensor, qb: Tensor, kw: Tensor, "
       "kb: Tensor, vw: Tensor, vb: Tensor, ow: Tensor, ob: Tensor, n1w: Tensor, n1b: Tensor, "
       "iw: Tensor, ib: Tensor, fw: Tensor, fb: Tensor, n2w: Tensor, n2b: Tensor) -> Tensor:\n"
    << "    batch = x.size(0)\n"
    << "    seq_len = x.size(1)\n"
    << (c.norm_first ? "    y = " + norm("x", "n1w", "n1b") + "\n" : "")
    << "    q = (torch.linear(" << in << ", qw, qb) * " << 1.0 / std::sqrt(static_cast<double>(d_head)) << ")"
    << split << "\n"
    << "    k = torch.linear(" << in << ", kw, kb)" << split << "\n"
    << "    v = torch.linear(" << in << ", vw, vb)" << split << "\n"
    << "    scores = torch.matmul(q, k.transpose(-2, -1)) + bias\n"
    << "    probs = torch.softmax(scores, -1)\n"
    << "    context = torch.matmul(probs, v).transpose(1, 2).reshape([batch, seq_len, " << h
    << "])\n"
    << (c.norm_first
            ? "    attended = x + torch.linear(context, ow, ob)\n"
              "    ffn = torch.linear(torch.gelu(torch.linear(" + norm("attended", "n2w", "n2b") + ", iw, ib)), fw, fb)\n"
              "    return attended + ffn\n\n"
            : "    attended = " + norm("x + torch.linear(context, ow, ob)", "n1w", "n1b") + "\n"
              "    ffn = torch.linear(torch.gelu(torch.linear(attended, iw, ib)), fw, fb)\n"
              "    return " + norm("attended + ffn", "n2w", "n2b") + "\n\n");

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
  if (c.norm_first)
    s << "    x = " << norm("x", self("bert.encoder.final_layer_norm.weight"), self("bert.encoder.final_layer_norm.bias"))
      << "\n";
  s << "    return x\n\n";
  return s.str();
}



// A scripted module holding `params` under dot-free names, with the attribute Python's
// Module.eval()/train() expect.
torch::jit::Module script_module(const std::string& type_name, const NamedTensors& params) {
  torch::jit::Module module("__torch__." + type_name);
  module.register_attribute("training", c10::BoolType::get(), false);
  for (const auto& [name, tensor] : params)
    module.register_parameter(script_attribute_name(name), tensor.detach().cpu().clone(), /*is_buffer=*/false);
  return module;
}

// The padding bias, as in BertModelImpl::forward: the dtype's most negative finite value.
double lowest_of(const torch::Tensor& like) {
  double lowest = 0;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, like.scalar_type(), "bert_export_lowest",
                                  [&] { lowest = static_cast<double>(std::numeric_limits<scalar_t>::lowest()); });
  return lowest;
}

std::string self(const std::string& name) { return "self." + script_attribute_name(name); }

}  // namespace

void export_bert_mlm_torchscript(BertForMaskedLMImpl& model, const std::string& path) {
  auto module = script_module("ZooBertForMaskedLM", hf_bert_state(model));
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
  save_script_module(module, path);
}

void export_sts_torchscript(StsModelImpl& model, const std::string& path) {
  NamedTensors params = hf_bert_state(*model.bert, "bert.");
  const auto& o = model.options;
  const bool cross = o.architecture == "cross";
  const bool cosine = o.head == "cosine";
  const bool match = cross && !model.match_embedding.is_empty();
  // The head's own parameters keep their module names: match_embedding.weight, pair_mlp.0.*, out.*.
  for (const auto& item : model.named_parameters(/*recurse=*/true))
    if (item.key().rfind("bert.", 0) != 0) params.emplace_back(item.key(), item.value());
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
              // Both sides in one pass, the shorter padded (and masked: only rounding changes). The
              // matrix products then run on twice the rows, which BLAS does faster per row: the
              // MiniLM bi-encoder at 2 x 32 tokens, one thread, 28.9 -> 23.8 ms (docs/speed.md).
              "def forward(self, ids_a: Tensor, mask_a: Tensor, ids_b: Tensor, mask_b: Tensor) -> Tensor:\n"
              "    n = ids_a.size(0)\n"
              "    length = max(ids_a.size(1), ids_b.size(1))\n"
              "    ids = torch.cat([torch.constant_pad_nd(ids_a, [0, length - ids_a.size(1)], 0),\n"
              "                     torch.constant_pad_nd(ids_b, [0, length - ids_b.size(1)], 0)], 0)\n"
              "    mask = torch.cat([torch.constant_pad_nd(mask_a, [0, length - mask_a.size(1)], 0),\n"
              "                      torch.constant_pad_nd(mask_b, [0, length - mask_b.size(1)], 0)], 0)\n"
              "    both = self.embed(ids, mask)\n"
              "    u = both[:n]\n"
              "    v = both[n:]\n";
    if (!cosine)
      forward += "    features = torch.tanh(torch.linear(torch.cat([u, v, torch.abs(u - v), u * v], 1), " +
                 self("pair_mlp.0.weight") + ", " + self("pair_mlp.0.bias") + "))\n";
  }
  module.define(encoder_script(model.bert->config, lowest_of(like), match) + forward + head.str());
  save_script_module(module, path);
}

}  // namespace zoo
