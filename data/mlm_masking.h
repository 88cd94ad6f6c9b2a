#pragma once
// BERT masking (Hugging Face DataCollatorForLanguageModeling semantics): each non-special token
// is selected with probability 0.15; of the selected, 80 % become [MASK], 10 % a token drawn
// uniformly from the whole vocabulary, 10 % stay unchanged; labels hold the original id at
// selected positions and -100 elsewhere. Whole-word masking selects words instead of pieces.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace zoo {

struct MaskingOptions {
  double mask_probability = 0.15;
  double mask_token_ratio = 0.8;    // of the selected: replaced by [MASK]
  double random_token_ratio = 0.1;  // of the selected: replaced by a random token
  bool whole_word = false;          // select whole words ("##" pieces follow their word)
};

struct MaskingVocab {
  int64_t vocab_size = 0;
  int64_t mask_id = -1;
  std::vector<bool> never_select;  // per id: special tokens ([PAD] [CLS] [SEP] [MASK] [UNK])
  std::vector<bool> continuation;  // per id: a "##" piece (for whole-word masking)
};

struct MaskedSequence {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> labels;
};

// Masks one sequence; the choices are a pure function of `seed`.
MaskedSequence mask_sequence(const std::vector<int64_t>& ids, const MaskingVocab& vocab,
                             const MaskingOptions& options, uint64_t seed);

}  // namespace zoo
