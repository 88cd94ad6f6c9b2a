#include "models/bert.h"

#include <cmath>
#include <limits>

namespace zoo {
namespace {

torch::nn::LayerNorm make_layer_norm(const BertConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}

// The most negative finite value of `dtype` (HF uses torch.finfo(dtype).min). Finite rather than
// -inf so that a fully padded row softmaxes to a uniform distribution instead of NaN.
double lowest_value(c10::ScalarType dtype) {
  double lowest = 0;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "bert_lowest_value", [&] {
    lowest = static_cast<double>(std::numeric_limits<scalar_t>::lowest());
  });
  return lowest;
}

// Scaling q (B·T·H values) is cheaper than scaling the scores (B·heads·T·T values); with a
// power-of-two d_head it is also bit-identical.
double query_scale(int64_t h, int64_t num_heads) {
  return 1.0 / std::sqrt(static_cast<double>(h / num_heads));
}

// Packed rows [N, H] (flat positions `token_index` of B*T) back into [B, T, H], zeros elsewhere.
torch::Tensor unpack_tokens(const torch::Tensor& packed, const torch::Tensor& token_index, int64_t batch,
                            int64_t seq_len) {
  const int64_t h = packed.size(1);
  return torch::zeros({batch * seq_len, h}, packed.options()).index_copy(0, token_index, packed)
      .view({batch, seq_len, h});
}

}  // namespace

BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig& c) {
  auto word = torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size);
  // As in HF: the [PAD] row gets no gradient from the lookup (it still does from the tied decoder).
  if (c.pad_token_id >= 0 && c.pad_token_id < c.vocab_size) word.padding_idx(c.pad_token_id);
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(word));
  position_embeddings =
      register_module("position_embeddings", torch::nn::Embedding(c.max_position, c.hidden_size));
  token_type_embeddings = register_module("token_type_embeddings",
                                          torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  layer_norm = register_module("layer_norm", make_layer_norm(c));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout));
  init_bert_weights(*this, c);
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& input_ids,
                                          const torch::Tensor& token_type_ids) {
  const int64_t seq_len = input_ids.size(1);
  TORCH_CHECK(seq_len <= position_embeddings->weight.size(0), "BERT: sequence length ", seq_len,
              " exceeds max_position ", position_embeddings->weight.size(0));
  // Positions are 0..T-1 in every row: a slice of the table, broadcast over the batch.
  auto x = word_embeddings(input_ids) + position_embeddings->weight.narrow(0, 0, seq_len);
  x = token_type_ids.defined() ? x + token_type_embeddings(token_type_ids)
                               : x + token_type_embeddings->weight[0];
  return dropout(layer_norm(x));
}

BertLayerImpl::BertLayerImpl(const BertConfig& c) : num_heads(c.num_heads), norm_first(c.norm_first) {
  const int64_t h = c.hidden_size;
  TORCH_CHECK(num_heads > 0 && h % num_heads == 0, "BERT: hidden_size ", h,
              " is not a multiple of num_heads ", num_heads);
  // Three separate projections rather than one fused QKV: each maps to one HF tensor.
  query = register_module("query", torch::nn::Linear(h, h));
  key = register_module("key", torch::nn::Linear(h, h));
  value = register_module("value", torch::nn::Linear(h, h));
  attention_output = register_module("attention_output", torch::nn::Linear(h, h));
  attention_norm = register_module("attention_norm", make_layer_norm(c));
  intermediate = register_module("intermediate", torch::nn::Linear(h, c.intermediate_size));
  output = register_module("output", torch::nn::Linear(c.intermediate_size, h));
  output_norm = register_module("output_norm", make_layer_norm(c));
  attention_dropout = register_module("attention_dropout", torch::nn::Dropout(c.attention_dropout));
  hidden_dropout = register_module("hidden_dropout", torch::nn::Dropout(c.hidden_dropout));
  init_bert_weights(*this, c);
}

torch::Tensor BertLayerImpl::attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                    const torch::Tensor& attention_bias) {
  const int64_t batch = q.size(0), seq_len = q.size(1), h = q.size(2);
  const int64_t d_head = h / num_heads;
  // [B, T, H] -> [B, heads, T, d]: views only; matmul makes the one copy it needs.
  const auto split = [&](const torch::Tensor& x) {
    return x.view({batch, seq_len, num_heads, d_head}).transpose(1, 2);
  };
  auto scores = torch::matmul(split(q), split(k).transpose(-2, -1));
  // In place: the scores are a fresh tensor that matmul's backward does not need.
  if (attention_bias.defined()) scores.add_(attention_bias);
  const auto probs = attention_dropout(torch::softmax(scores, -1));
  return torch::matmul(probs, split(v)).transpose(1, 2).reshape({batch, seq_len, h});
}

torch::Tensor BertLayerImpl::finish(const torch::Tensor& hidden, const torch::Tensor& context) {
  if (norm_first) {
    const auto attended = hidden + hidden_dropout(attention_output(context));
    return attended + hidden_dropout(output(torch::gelu(intermediate(output_norm(attended)))));
  }
  const auto attended = attention_norm(hidden + hidden_dropout(attention_output(context)));
  const auto ffn = output(torch::gelu(intermediate(attended)));  // exact erf GELU, as HF "gelu"
  return output_norm(attended + hidden_dropout(ffn));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& hidden,
                                     const torch::Tensor& attention_bias) {
  const double scale = query_scale(hidden.size(2), num_heads);
  const auto x = norm_first ? attention_norm(hidden) : hidden;
  return finish(hidden, attend(query(x) * scale, key(x), value(x), attention_bias));
}

torch::Tensor BertLayerImpl::forward_packed(const torch::Tensor& packed, const torch::Tensor& token_index,
                                            int64_t batch, int64_t seq_len,
                                            const torch::Tensor& attention_bias) {
  const int64_t h = packed.size(1);
  // Zeros at padding: padded keys are masked out by the bias, padded queries' rows discarded.
  const auto unpack = [&](const torch::Tensor& x) { return unpack_tokens(x, token_index, batch, seq_len); };
  const double scale = query_scale(h, num_heads);
  const auto x = norm_first ? attention_norm(packed) : packed;
  const auto context = attend(unpack(query(x) * scale), unpack(key(x)), unpack(value(x)), attention_bias);
  return finish(packed, context.view({batch * seq_len, h}).index_select(0, token_index));
}

BertModelImpl::BertModelImpl(const BertConfig& c, bool with_pooler) : config(c) {
  embeddings = register_module("embeddings", BertEmbeddings(c));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_layers; ++i) layers->push_back(BertLayer(c));
  if (c.norm_first) {
    final_norm = register_module("final_norm", make_layer_norm(c));
    init_bert_weights(*final_norm, c);
  }
  if (with_pooler) {
    pooler = register_module("pooler", torch::nn::Linear(c.hidden_size, c.hidden_size));
    init_bert_weights(*pooler, c);
  }
}

torch::Tensor BertModelImpl::forward(const torch::Tensor& input_ids,
                                     const torch::Tensor& attention_mask,
                                     const torch::Tensor& token_type_ids,
                                     const torch::Tensor& extra_embeddings) {
  auto x = embeddings(input_ids, token_type_ids);
  if (extra_embeddings.defined()) x = x + extra_embeddings;
  torch::Tensor bias;  // [B, 1, 1, T]: broadcast over heads and query positions
  if (attention_mask.defined()) {
    bias = (1.0 - attention_mask.to(x.scalar_type())) * lowest_value(x.scalar_type());
    bias = bias.view({input_ids.size(0), 1, 1, input_ids.size(1)});
  }
  const int64_t batch = input_ids.size(0), seq_len = input_ids.size(1), h = x.size(2);
  if (is_training() && attention_mask.defined()) {
    const auto token_index = attention_mask.reshape({-1}).nonzero().squeeze(1);
    if (token_index.size(0) < batch * seq_len) {
      auto packed = x.reshape({batch * seq_len, h}).index_select(0, token_index);
      for (const auto& layer : *layers)
        packed = layer->as<BertLayerImpl>()->forward_packed(packed, token_index, batch, seq_len, bias);
      if (!final_norm.is_empty()) packed = final_norm(packed);
      return unpack_tokens(packed, token_index, batch, seq_len);
    }
  }
  for (const auto& layer : *layers) x = layer->as<BertLayerImpl>()->forward(x, bias);
  return final_norm.is_empty() ? x : final_norm(x);
}

torch::Tensor BertModelImpl::pool(const torch::Tensor& hidden) {
  TORCH_CHECK(!pooler.is_empty(), "BERT: pool() needs a model built with_pooler");
  return torch::tanh(pooler(hidden.select(1, 0)));
}

BertForMaskedLMImpl::BertForMaskedLMImpl(const BertConfig& c) {
  // HF's BertForMaskedLM has no pooler (add_pooling_layer=False).
  bert = register_module("bert", BertModel(c, /*with_pooler=*/false));
  transform = register_module("transform", torch::nn::Linear(c.hidden_size, c.hidden_size));
  transform_norm = register_module("transform_norm", make_layer_norm(c));
  decoder_bias = register_parameter("decoder_bias", torch::zeros({c.vocab_size}));
  // The encoder initialised itself; only the head is new here.
  init_bert_weights(*transform, c);
  init_bert_weights(*transform_norm, c);
}

torch::Tensor BertForMaskedLMImpl::head(const torch::Tensor& hidden) {
  // Under autocast the dense output is bf16, and LibTorch 1.13's CPU layer_norm refuses a bf16
  // input with fp32 weights: normalise in the weights' type (a no-op without autocast).
  const auto x = transform_norm(torch::gelu(transform(hidden)).to(transform_norm->weight.scalar_type()));
  // The decoder is the word-embedding matrix itself, so tying survives loads, .to() and
  // optimiser steps without any re-tying.
  return torch::linear(x, decoder_weight(), decoder_bias);
}

torch::Tensor BertForMaskedLMImpl::forward(const torch::Tensor& input_ids,
                                           const torch::Tensor& attention_mask,
                                           const torch::Tensor& token_type_ids) {
  return head(bert(input_ids, attention_mask, token_type_ids));
}

torch::Tensor BertForMaskedLMImpl::forward_at(const torch::Tensor& input_ids,
                                              const torch::Tensor& attention_mask,
                                              const torch::Tensor& token_type_ids,
                                              const torch::Tensor& positions) {
  const auto hidden = bert(input_ids, attention_mask, token_type_ids);
  return head(hidden.reshape({-1, hidden.size(-1)}).index_select(0, positions));
}

void init_bert_weights(torch::nn::Module& module, const BertConfig& c) {
  torch::NoGradGuard no_grad;
  module.apply([&](torch::nn::Module& m) {
    if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(&m)) {
      linear->weight.normal_(0, c.initializer_range);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* embedding = dynamic_cast<torch::nn::EmbeddingImpl*>(&m)) {
      embedding->weight.normal_(0, c.initializer_range);
      if (const auto pad = embedding->options.padding_idx()) embedding->weight[*pad].zero_();
    } else if (auto* norm = dynamic_cast<torch::nn::LayerNormImpl*>(&m)) {
      norm->weight.fill_(1);
      norm->bias.zero_();
    } else if (auto* mlm = dynamic_cast<BertForMaskedLMImpl*>(&m)) {
      mlm->decoder_bias.zero_();
    }
  });
}

}  // namespace zoo
