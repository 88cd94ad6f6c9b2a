#include "models/sts.h"

#include <algorithm>
#include <cmath>

namespace zoo {

StsModelImpl::StsModelImpl(const BertConfig& c, const StsModelOptions& o) : options(o) {
  TORCH_CHECK(o.architecture == "cross" || o.architecture == "bi", "STS: unknown architecture ",
              o.architecture);
  TORCH_CHECK(o.head == "distribution" || o.head == "regression" || o.head == "cosine", "STS: unknown head ", o.head);
  TORCH_CHECK(o.head != "cosine" || o.architecture == "bi", "STS: the cosine head needs the bi-encoder");
  TORCH_CHECK(o.pooling == "mean" || o.pooling == "cls" || o.pooling == "max", "STS: unknown pooling ", o.pooling);
  TORCH_CHECK(o.max_score > o.min_score, "STS: max_score must exceed min_score");
  const bool cross = o.architecture == "cross";
  bert = register_module("bert", BertModel(c, /*with_pooler=*/cross));
  int64_t features = c.hidden_size;
  if (cross && o.exact_match) {
    TORCH_CHECK(o.match_idf_buckets >= 0, "STS: match_idf_buckets must be >= 0");
    const int64_t match_classes = 1 + std::max<int64_t>(1, o.match_idf_buckets);  // class 0: no match
    match_embedding = register_module("match_embedding", torch::nn::Embedding(match_classes, c.hidden_size));
    init_bert_weights(*match_embedding, c);
  }
  if (o.head == "cosine") return;  // no parameters beyond the encoder
  if (!cross) {
    pair_mlp = register_module("pair_mlp", torch::nn::Sequential(torch::nn::Linear(4 * c.hidden_size, c.hidden_size),
                                                                 torch::nn::Tanh()));
    init_bert_weights(*pair_mlp, c);
  }
  dropout = register_module("dropout", torch::nn::Dropout(o.classifier_dropout));
  out = register_module("out", torch::nn::Linear(features, num_classes()));
  init_bert_weights(*out, c);
}

int64_t StsModelImpl::num_classes() const {
  if (options.head == "regression" || options.head == "cosine") return 1;
  const double span = options.max_score - options.min_score;
  TORCH_CHECK(std::floor(span) == span, "STS: the distribution head needs integer score bounds");
  return static_cast<int64_t>(span) + 1;
}

torch::Tensor masked_mean(const torch::Tensor& hidden, const torch::Tensor& mask) {
  const auto m = mask.to(hidden.scalar_type()).unsqueeze(-1);
  return (hidden * m).sum(1) / m.sum(1).clamp_min(1.0);
}

torch::Tensor pool_tokens(const torch::Tensor& hidden, const torch::Tensor& mask, const std::string& mode) {
  if (mode == "mean") return masked_mean(hidden, mask);
  if (mode == "cls") return hidden.select(1, 0);
  TORCH_CHECK(mode == "max", "pool_tokens: unknown mode ", mode);
  return hidden.masked_fill(mask.unsqueeze(-1) == 0, -1e9).amax(1);
}

torch::Tensor StsModelImpl::embed(const torch::Tensor& ids, const torch::Tensor& mask) {
  const auto pooled = pool_tokens(bert->forward(ids, mask, torch::Tensor()), mask, options.pooling);
  if (!options.normalize) return pooled;
  return torch::nn::functional::normalize(pooled, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
}

torch::Tensor StsModelImpl::forward_cross(const torch::Tensor& ids, const torch::Tensor& mask,
                                          const torch::Tensor& types, const torch::Tensor& match) {
  const torch::Tensor extra =
      match_embedding.is_empty() || !match.defined() ? torch::Tensor() : match_embedding(match);
  const auto hidden = bert->forward(ids, mask, types, extra);
  const auto raw = out(dropout(bert->pool(hidden)));
  return options.head == "regression" ? raw.squeeze(1) : raw;
}

torch::Tensor StsModelImpl::forward_bi(const torch::Tensor& ids_a, const torch::Tensor& mask_a,
                                       const torch::Tensor& ids_b, const torch::Tensor& mask_b) {
  const auto u = embed(ids_a, mask_a);
  const auto v = embed(ids_b, mask_b);
  if (options.head == "cosine") return torch::cosine_similarity(u, v, 1);
  const auto features = torch::cat({u, v, (u - v).abs(), u * v}, 1);
  const auto raw = out(dropout(pair_mlp->forward(features)));
  return options.head == "regression" ? raw.squeeze(1) : raw;
}

torch::Tensor StsModelImpl::score(const torch::Tensor& raw) const {
  const double lo = options.min_score, span = options.max_score - options.min_score;
  if (options.head == "cosine") return lo + span * raw;
  if (options.head == "regression") return options.bound_output ? lo + span * torch::sigmoid(raw) : raw;
  const auto values = torch::arange(num_classes(), raw.options()) + lo;
  return (torch::softmax(raw, -1) * values).sum(-1);
}

}  // namespace zoo
