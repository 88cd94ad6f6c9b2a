#pragma once
// Sentence pairs -> the STS model's input tensors, shared by training (train/tasks/sts_task) and
// inference (infer/), so that an exported model sees exactly what it was trained on.
//   cross-encoder: "input_ids", "attention_mask", "token_type_ids", "match" [B, T] int64 of
//                  [CLS] a [SEP] b [SEP]; token types 0 then 1; match 0, or for a token that
//                  also occurs in the other sentence (specials never) 1, or its match class;
//   bi-encoder:    "ids_a", "mask_a", "ids_b", "mask_b" [B, T] int64 of [CLS] s [SEP] each.
// Rows are padded with [PAD] to the longest in the batch; every collated batch also has
// "score" [B] float32.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "data/wordpiece.h"

namespace zoo {

struct StsEncodedPair {
  std::vector<int64_t> a, b;  // WordPiece ids without specials, truncated
  double score = 0;
};

// Tokenizes and truncates a pair so that it fits max_seq_len: a bi-encoder's sentences each as
// [CLS] s [SEP]; a cross-encoder's longest-first, so that [CLS] a [SEP] b [SEP] fits.
StsEncodedPair encode_sts_pair(const WordPieceTokenizer& tokenizer, const std::string& a, const std::string& b,
                               double score, bool bi_encoder, int64_t max_seq_len);

// match_class: per vocabulary id, the match feature of a shared token; empty: 1 for every one.
std::map<std::string, torch::Tensor> collate_sts_pairs(const Vocab& vocab,
                                                       const std::vector<const StsEncodedPair*>& pairs,
                                                       bool bi_encoder, const std::vector<int64_t>& match_class);

}  // namespace zoo
