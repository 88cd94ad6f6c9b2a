#pragma once
// Learns a BERT-style WordPiece vocabulary (vocab.txt) from raw text, the way Hugging Face's
// WordPiece trainer does: BPE merges over "##"-continued character pieces.
#include <cstdint>
#include <string>
#include <vector>

#include "data/wordpiece.h"

namespace zoo {

struct VocabTrainerOptions {
  int64_t vocab_size = 8192;   // upper bound on the result, specials included (>= 5)
  int64_t min_frequency = 2;   // a pair merges only when it occurs at least this often
  TokenizerOptions tokenizer;  // basic tokenization of the training text; words longer than
                               // max_chars_per_word are skipped (WordPiece maps them to [UNK])
};

// Vocabulary layout: [PAD] [UNK] [CLS] [SEP] [MASK] (ids 0..4); then the alphabet: every
// character seen, in word-initial form "c" and continuation form "##c", ordered by frequency
// (descending) then bytes; then merged pieces in merge order. Each merge joins the most frequent
// adjacent pair of pieces within words (counts weighted by word frequency; ties go to the pair
// of lower piece ids). Stops at vocab_size or when no pair reaches min_frequency. When the
// alphabet alone exceeds vocab_size, its most frequent entries are kept. Deterministic.
// Throws std::invalid_argument when vocab_size < 5.
Vocab train_wordpiece_vocab(const std::vector<std::string>& texts,
                            const VocabTrainerOptions& options);

}  // namespace zoo
