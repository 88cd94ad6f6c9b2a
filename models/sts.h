#pragma once
// Sentence-pair similarity on the BERT encoder, scores in [min, max] (STS-B: 0..5).
// Two architectures and two heads:
//   cross-encoder: [CLS] a [SEP] b [SEP] with token types 0/1 -> pooler -> head;
//   bi-encoder:    u = pool(BERT(a)), v = pool(BERT(b)) (sentence-transformers' pooling: mean,
//                  cls or max, optionally L2-normalised) -> [u, v, |u-v|, u*v] -> MLP -> head;
//   regression head:   one linear output, optionally bounded to [min, max] by a sigmoid (MSE);
//   distribution head: K = max-min+1 class logits, prediction = expectation (KL to the sparse
//                      target distribution of Tai et al.);
//   cosine head (bi):  cos(u, v), no parameters; prediction = min + (max-min)·cos, trained as
//                      sentence-transformers' CosineSimilarityLoss (MSE to (score-min)/(max-min)).
#include <torch/torch.h>

#include <string>

#include "models/bert.h"

namespace zoo {

struct StsModelOptions {
  std::string architecture = "cross";  // cross | bi
  std::string head = "distribution";   // distribution | regression | cosine (bi only)
  std::string pooling = "mean";        // bi: mean | cls | max over the real tokens
  bool normalize = false;              // bi: L2-normalise the pooled embedding
  bool bound_output = true;            // regression: min + (max-min)·sigmoid(x)
  bool exact_match = true;             // cross: embed "this token also occurs in the other sentence"
  // cross with exact_match: > 0 splits "occurs in the other sentence" into that many classes by
  // the token's IDF (a shared rare word says more than a shared "the"); 0 = one class.
  int64_t match_idf_buckets = 0;
  double min_score = 0.0, max_score = 5.0;
  double classifier_dropout = 0.1;
};

class StsModelImpl : public torch::nn::Module {
 public:
  StsModelImpl(const BertConfig& bert_config, const StsModelOptions& options);

  // Cross-encoder: ids/mask/types [B, T] of the joined pair, `match` [B, T] (0 = no match, else 1,
  // or 1 + IDF bucket; may be undefined). Returns the head's raw output: [B] (regression) or
  // [B, K] (distribution logits).
  torch::Tensor forward_cross(const torch::Tensor& ids, const torch::Tensor& mask,
                              const torch::Tensor& types, const torch::Tensor& match);
  // Bi-encoder: a sentence's embedding [B, H], pooled (and normalised) as sentence-transformers.
  torch::Tensor embed(const torch::Tensor& ids, const torch::Tensor& mask);
  // Bi-encoder: each sentence on its own. Cosine head: cos(u, v) [B].
  torch::Tensor forward_bi(const torch::Tensor& ids_a, const torch::Tensor& mask_a,
                           const torch::Tensor& ids_b, const torch::Tensor& mask_b);
  // The head's raw output -> predicted score [B] in [min, max] (unbounded regression aside).
  torch::Tensor score(const torch::Tensor& raw) const;
  int64_t num_classes() const;

  StsModelOptions options;
  BertModel bert{nullptr};
  torch::nn::Embedding match_embedding{nullptr};
  torch::nn::Sequential pair_mlp{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear out{nullptr};
};
TORCH_MODULE(StsModel);

// Mean of hidden states over real tokens: [B, T, H], mask [B, T] -> [B, H].
torch::Tensor masked_mean(const torch::Tensor& hidden, const torch::Tensor& mask);
// sentence-transformers' pooling of token states over real tokens: "mean", "cls" (the first
// token) or "max" (padding counts as -1e9, as sentence-transformers does).
torch::Tensor pool_tokens(const torch::Tensor& hidden, const torch::Tensor& mask, const std::string& mode);

}  // namespace zoo
