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

#include "data/batch.h"
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

// For each vocabulary id, the match class of a shared token: 1 + its IDF bucket, IDF =
// log(sentences / (1 + sentences containing it)) over the pairs' sentences, cut into `buckets`
// equal intervals of [0, max IDF]. Unseen tokens are as rare as the rarest.
std::vector<int64_t> idf_match_classes(const std::vector<StsEncodedPair>& pairs, int64_t vocab_size,
                                       int64_t buckets);

// match_class: per vocabulary id, the match feature of a shared token; empty: 1 for every one.
Batch collate_sts_pairs(const Vocab& vocab, const std::vector<const StsEncodedPair*>& pairs, bool bi_encoder,
                        const std::vector<int64_t>& match_class);

}  // namespace zoo
