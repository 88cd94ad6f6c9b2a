#pragma once
// Mini-BERT: embeddings, post-LN Transformer encoder, pooler and the masked-LM head, with the
// module and parameter layout of Hugging Face's BertForMaskedLM so that weights map one to one.
// Optionally pre-LN (norm_first), which Hugging Face's BERT has no layout for.
#include <torch/torch.h>

namespace zoo {

struct BertConfig {
  int64_t vocab_size = 8192;
  int64_t hidden_size = 256;
  int64_t num_layers = 4;
  int64_t num_heads = 4;
  int64_t intermediate_size = 1024;
  int64_t max_position = 512;
  int64_t type_vocab_size = 2;
  double hidden_dropout = 0.1;
  double attention_dropout = 0.1;
  double layer_norm_eps = 1e-12;
  double initializer_range = 0.02;
  int64_t pad_token_id = 0;
  // Pre-LN (Xiong et al. 2020, as torch.nn.TransformerEncoderLayer(norm_first=True)): each
  // sublayer normalises its input and the residual stream is left unnormalised, with one final
  // LayerNorm after the last layer. Trains stably at higher learning rates from scratch (the
  // short-budget BERT recipes use it); false is BERT's post-LN.
  bool norm_first = false;
};

// Word + position + token-type embeddings, LayerNorm, dropout.
class BertEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit BertEmbeddingsImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids);
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr},
      token_type_embeddings{nullptr};
  torch::nn::LayerNorm layer_norm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertEmbeddings);

// Multi-head self-attention + residual + LayerNorm, then FFN (exact GELU) + residual + LayerNorm;
// pre-LN: x + attention(LayerNorm(x)), then x + FFN(LayerNorm(x)) (same parameters).
class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& c);
  // `attention_bias`: [B, 1, 1, T], 0 at real tokens and a large negative value at padding.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& attention_bias);
  // The same layer on the real tokens only: `packed` [N, H] holds the rows `token_index` (flat
  // indices into B*T) of the padded [B, T, H] input. Only the attention scores need the padded
  // layout; the projections, FFN, LayerNorms and dropout skip the padding. Returns [N, H], equal
  // to forward() at those rows.
  torch::Tensor forward_packed(const torch::Tensor& packed, const torch::Tensor& token_index, int64_t batch,
                               int64_t seq_len, const torch::Tensor& attention_bias);
  int64_t num_heads;
  bool norm_first;
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, attention_output{nullptr};
  torch::nn::LayerNorm attention_norm{nullptr};
  torch::nn::Linear intermediate{nullptr}, output{nullptr};
  torch::nn::LayerNorm output_norm{nullptr};
  torch::nn::Dropout attention_dropout{nullptr}, hidden_dropout{nullptr};

 private:
  // Attention context [B, T, H] of projections q (scaled), k, v, each [B, T, H].
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& attention_bias);
  // Output projection + residual (+ LayerNorm), then FFN + residual (+ LayerNorm), per token.
  torch::Tensor finish(const torch::Tensor& hidden, const torch::Tensor& context);
};
TORCH_MODULE(BertLayer);

// The encoder: embeddings and layers; optional pooler (dense + tanh on [CLS]).
class BertModelImpl : public torch::nn::Module {
 public:
  BertModelImpl(const BertConfig& c, bool with_pooler);
  // ids, attention_mask (1 = token, 0 = padding), token types: [B, T] int64 -> [B, T, H].
  // An undefined mask means no padding; undefined token types mean type 0 everywhere.
  // In training mode a padded batch runs the layers on its real tokens only (forward_packed):
  // the same values and gradients at real tokens, ~1/3 less work for typical padding; the
  // outputs at padded positions are then 0 (in eval mode they are computed, as HF does).
  // `extra_embeddings` [B, T, H], when given, is added to the embedding output before the first
  // layer (e.g. the STS cross-encoder's "token also occurs in the other sentence" feature).
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        const torch::Tensor& token_type_ids,
                        const torch::Tensor& extra_embeddings = {});
  // tanh(W h[:, 0] + b): [B, T, H] -> [B, H]. Requires with_pooler.
  torch::Tensor pool(const torch::Tensor& hidden);
  BertConfig config;
  BertEmbeddings embeddings{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm final_norm{nullptr};  // pre-LN only
  torch::nn::Linear pooler{nullptr};
};
TORCH_MODULE(BertModel);

// Encoder + MLM head: dense -> GELU -> LayerNorm -> decoder tied to the word embeddings (+ bias).
class BertForMaskedLMImpl : public torch::nn::Module {
 public:
  explicit BertForMaskedLMImpl(const BertConfig& c);
  // Logits over the vocabulary at every position: [B, T, V].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        const torch::Tensor& token_type_ids);
  // Logits only at `positions` (flat indices into B*T): [N, V]. Same values as forward() there,
  // without paying for the full-vocabulary decoder at unmasked positions.
  torch::Tensor forward_at(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                           const torch::Tensor& token_type_ids, const torch::Tensor& positions);
  // The head on hidden states [..., H] -> [..., V].
  torch::Tensor head(const torch::Tensor& hidden);
  // The decoder weight [V, H]: the word-embedding matrix itself (tied, same storage).
  torch::Tensor decoder_weight() const { return bert->embeddings->word_embeddings->weight; }
  BertModel bert{nullptr};
  torch::nn::Linear transform{nullptr};
  torch::nn::LayerNorm transform_norm{nullptr};
  torch::Tensor decoder_bias;
};
TORCH_MODULE(BertForMaskedLM);

// HF initialisation: Linear/Embedding N(0, initializer_range), biases 0, LayerNorm 1/0, padding
// row of the word embeddings zeroed.
void init_bert_weights(torch::nn::Module& module, const BertConfig& c);

}  // namespace zoo
