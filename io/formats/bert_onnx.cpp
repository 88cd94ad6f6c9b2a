#include "io/formats/bert_onnx.h"

#include <cmath>
#include <limits>
#include <string>

#include "io/formats/onnx_graph.h"

namespace zoo {
namespace {

using Ints = std::vector<int64_t>;

std::string layer_norm(OnnxGraph& g, const std::string& x, const std::string& name, torch::nn::LayerNormImpl& norm) {
  return g.node("LayerNormalization",
                {x, g.initializer(name + ".weight", norm.weight), g.initializer(name + ".bias", norm.bias)},
                {{"axis", int64_t{-1}}, {"epsilon", static_cast<float>(norm.options.eps())}});
}

// torch.gelu (exact): x * 0.5 * (1 + erf(x / sqrt(2))); ONNX Runtime fuses this pattern.
std::string gelu(OnnxGraph& g, const std::string& x) {
  const std::string erf = g.node("Erf", {g.node("Div", {x, g.scalar(static_cast<float>(std::sqrt(2.0)))})});
  return g.node("Mul", {g.node("Mul", {x, g.scalar(0.5f)}), g.node("Add", {erf, g.scalar(1.0f)})});
}

std::string linear(OnnxGraph& g, const std::string& x, const std::string& name, torch::nn::LinearImpl& l) {
  return g.linear(x, name, l.weight, l.bias);
}

// One encoder layer as encoder_script's encoder_layer (post-LN, or pre-LN when norm_first).
std::string encoder_layer(OnnxGraph& g, BertLayerImpl& layer, const std::string& p, const std::string& x,
                          const std::string& bias, int64_t hidden) {
  const int64_t heads = layer.num_heads, d_head = hidden / heads;
  const std::string in = layer.norm_first ? layer_norm(g, x, p + "attention.output.LayerNorm", *layer.attention_norm) : x;
  const auto heads_of = [&](const std::string& t, const Ints& perm) {
    return g.node("Transpose", {g.node("Reshape", {t, g.ints({0, 0, heads, d_head})})}, {{"perm", perm}});
  };
  const std::string q = heads_of(
      g.node("Mul", {linear(g, in, p + "attention.self.query", *layer.query),
                     g.scalar(static_cast<float>(1.0 / std::sqrt(static_cast<double>(d_head))))}),
      {0, 2, 1, 3});
  const std::string k_t = heads_of(linear(g, in, p + "attention.self.key", *layer.key), {0, 2, 3, 1});
  const std::string v = heads_of(linear(g, in, p + "attention.self.value", *layer.value), {0, 2, 1, 3});
  const std::string probs = g.node("Softmax", {g.node("Add", {g.node("MatMul", {q, k_t}), bias})}, {{"axis", int64_t{-1}}});
  const std::string context = g.node(
      "Reshape", {g.node("Transpose", {g.node("MatMul", {probs, v})}, {{"perm", Ints{0, 2, 1, 3}}}), g.ints({0, 0, hidden})});
  const std::string projected = linear(g, context, p + "attention.output.dense", *layer.attention_output);
  const auto ffn = [&](const std::string& t) {
    return linear(g, gelu(g, linear(g, t, p + "intermediate.dense", *layer.intermediate)), p + "output.dense",
                  *layer.output);
  };
  if (layer.norm_first) {
    const std::string attended = g.node("Add", {x, projected});
    return g.node("Add", {attended, ffn(layer_norm(g, attended, p + "output.LayerNorm", *layer.output_norm))});
  }
  const std::string attended =
      layer_norm(g, g.node("Add", {x, projected}), p + "attention.output.LayerNorm", *layer.attention_norm);
  return layer_norm(g, g.node("Add", {attended, ffn(attended)}), p + "output.LayerNorm", *layer.output_norm);
}

// encoder_script's encode(): hidden states [B, T, H]; `extra` (may be empty) is added after the
// embedding LayerNorm. Initializers carry the Hugging Face names of hf_bert_state().
std::string encode(OnnxGraph& g, BertModelImpl& bert, const std::string& ids, const std::string& mask,
                   const std::string& types, const std::string& extra) {
  BertEmbeddingsImpl& e = *bert.embeddings;
  const std::string n = "bert.embeddings.";
  const std::string seq_len = g.node("Shape", {ids}, {{"start", int64_t{1}}, {"end", int64_t{2}}});
  const std::string positions = g.node(
      "Slice", {g.initializer(n + "position_embeddings.weight", e.position_embeddings->weight), g.ints({0}), seq_len,
                g.ints({0})});
  std::string x = g.node(
      "Add", {g.node("Add", {g.node("Gather", {g.initializer(n + "word_embeddings.weight", e.word_embeddings->weight), ids}),
                             positions}),
              g.node("Gather", {g.initializer(n + "token_type_embeddings.weight", e.token_type_embeddings->weight), types})});
  x = layer_norm(g, x, n + "LayerNorm", *e.layer_norm);
  if (!extra.empty()) x = g.node("Add", {x, extra});
  // The padding bias, as BertModelImpl::forward: float32's most negative finite value.
  const std::string keep = g.node("Cast", {mask}, {{"to", int64_t{1}}});  // 1 = FLOAT
  const std::string bias = g.node(
      "Unsqueeze",
      {g.node("Mul", {g.node("Sub", {g.scalar(1.0f), keep}), g.scalar(std::numeric_limits<float>::lowest())}),
       g.ints({1, 2})});
  for (size_t i = 0; i < bert.layers->size(); ++i)
    x = encoder_layer(g, *bert.layers[i]->as<BertLayerImpl>(), "bert.encoder.layer." + std::to_string(i) + ".", x,
                      bias, bert.config.hidden_size);
  if (bert.config.norm_first) x = layer_norm(g, x, "bert.encoder.final_layer_norm", *bert.final_norm);
  return x;
}

const std::vector<OnnxDim> kTokens = {"batch", "sequence"};

// The bi-encoder's sentence embedding [B, H], pooled (and normalised) as sentence-transformers.
std::string embed(OnnxGraph& g, StsModelImpl& model, const std::string& ids, const std::string& mask) {
  const auto& o = model.options;
  const std::string types = g.node("Mul", {ids, g.index(0)});  // torch.zeros_like(ids)
  const std::string x = encode(g, *model.bert, ids, mask, types, "");
  std::string e;
  if (o.pooling == "mean") {
    const std::string m = g.node("Unsqueeze", {g.node("Cast", {mask}, {{"to", int64_t{1}}}), g.ints({-1})});
    const auto sum = [&](const std::string& t) { return g.node("ReduceSum", {t, g.ints({1})}, {{"keepdims", int64_t{0}}}); };
    e = g.node("Div", {sum(g.node("Mul", {x, m})), g.node("Max", {sum(m), g.scalar(1.0f)})});
  } else if (o.pooling == "cls") {
    e = g.node("Gather", {x, g.index(0)}, {{"axis", int64_t{1}}});
  } else {
    const std::string pad = g.node("Equal", {g.node("Unsqueeze", {mask, g.ints({-1})}), g.index(0)});
    e = g.node("ReduceMax", {g.node("Where", {pad, g.scalar(-1e9f), x})}, {{"axes", Ints{1}}, {"keepdims", int64_t{0}}});
  }
  if (!o.normalize) return e;
  const std::string norm = g.node("ReduceL2", {e}, {{"axes", Ints{1}}, {"keepdims", int64_t{1}}});
  return g.node("Div", {e, g.node("Max", {norm, g.scalar(1e-12f)})});
}

}  // namespace

void export_bert_mlm_onnx(BertForMaskedLMImpl& model, const std::string& path) {
  OnnxGraph g("ZooBertForMaskedLM");
  for (const char* name : {"input_ids", "attention_mask", "token_type_ids"}) g.input(name, torch::kLong, kTokens);
  const std::string x = encode(g, *model.bert, "input_ids", "attention_mask", "token_type_ids", "");
  const std::string t = "cls.predictions.transform.";
  const std::string y = layer_norm(g, gelu(g, linear(g, x, t + "dense", *model.transform)), t + "LayerNorm",
                                   *model.transform_norm);
  // The decoder is tied to the word embeddings: one initializer, transposed in the graph.
  const std::string decoder = g.node(
      "Transpose", {g.initializer("bert.embeddings.word_embeddings.weight", model.decoder_weight())}, {{"perm", Ints{1, 0}}});
  const std::string logits =
      g.node("Add", {g.node("MatMul", {y, decoder}), g.initializer("cls.predictions.bias", model.decoder_bias)});
  g.output("logits", logits, torch::kFloat, {"batch", "sequence", model.bert->config.vocab_size});
  g.save(path, "zoo BertForMaskedLM: (input_ids, attention_mask, token_type_ids) -> logits [batch, sequence, vocab]");
}

void export_sts_onnx(StsModelImpl& model, const std::string& path) {
  const auto& o = model.options;
  auto params = model.named_parameters(/*recurse=*/true);
  OnnxGraph g("ZooSts");
  std::string features;
  std::string u, v;
  if (o.architecture == "cross") {
    for (const char* name : {"input_ids", "attention_mask", "token_type_ids", "match"}) g.input(name, torch::kLong, kTokens);
    const std::string extra =
        model.match_embedding.is_empty()
            ? ""
            : g.node("Gather", {g.initializer("match_embedding.weight", model.match_embedding->weight), "match"});
    const std::string x = encode(g, *model.bert, "input_ids", "attention_mask", "token_type_ids", extra);
    features = g.node("Tanh", {linear(g, g.node("Gather", {x, g.index(0)}, {{"axis", int64_t{1}}}), "bert.pooler.dense",
                                      *model.bert->pooler)});
  } else {
    g.input("ids_a", torch::kLong, {"batch", "sequence_a"});
    g.input("mask_a", torch::kLong, {"batch", "sequence_a"});
    g.input("ids_b", torch::kLong, {"batch", "sequence_b"});
    g.input("mask_b", torch::kLong, {"batch", "sequence_b"});
    u = embed(g, model, "ids_a", "mask_a");
    v = embed(g, model, "ids_b", "mask_b");
    if (o.head != "cosine")
      features = g.node("Tanh", {g.linear(g.node("Concat", {u, v, g.node("Abs", {g.node("Sub", {u, v})}), g.node("Mul", {u, v})},
                                                 {{"axis", int64_t{1}}}),
                                          "pair_mlp.0", params["pair_mlp.0.weight"], params["pair_mlp.0.bias"])});
  }
  const float min = static_cast<float>(o.min_score), range = static_cast<float>(o.max_score - o.min_score);
  const auto rescale = [&](const std::string& unit) {
    return g.node("Add", {g.scalar(min), g.node("Mul", {g.scalar(range), unit})});
  };
  std::string score;
  if (o.head == "cosine") {
    // torch.cosine_similarity(u, v, 1), eps 1e-8 on each norm.
    const auto norm = [&](const std::string& t) {
      return g.node("Max", {g.node("ReduceL2", {t}, {{"axes", Ints{1}}, {"keepdims", int64_t{0}}}), g.scalar(1e-8f)});
    };
    const std::string dot = g.node("ReduceSum", {g.node("Mul", {u, v}), g.ints({1})}, {{"keepdims", int64_t{0}}});
    score = rescale(g.node("Div", {dot, g.node("Mul", {norm(u), norm(v)})}));
  } else {
    const std::string raw = g.linear(features, "out", params["out.weight"], params["out.bias"]);
    if (o.head == "regression") {
      const std::string squeezed = g.node("Squeeze", {raw, g.ints({1})});
      score = o.bound_output ? rescale(g.node("Sigmoid", {squeezed})) : squeezed;
    } else {
      const std::string values =
          g.initializer("class_values", torch::arange(model.num_classes(), torch::kFloat) + o.min_score);
      score = g.node("ReduceSum", {g.node("Mul", {g.node("Softmax", {raw}, {{"axis", int64_t{-1}}}), values}), g.ints({-1})},
                     {{"keepdims", int64_t{0}}});
    }
  }
  g.output("score", score, torch::kFloat, {"batch"});
  g.save(path, "zoo STS " + o.architecture + "-encoder, " + o.head + " head: the predicted score [batch]");
}

}  // namespace zoo
