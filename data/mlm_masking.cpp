#include "data/mlm_masking.h"

#include <random>
#include <stdexcept>

#include "data/sampling.h"

namespace zoo {

MaskedSequence mask_sequence(const std::vector<int64_t>& ids, const MaskingVocab& vocab,
                             const MaskingOptions& options, uint64_t seed) {
  std::mt19937_64 rng(seed);
  MaskedSequence out{ids, std::vector<int64_t>(ids.size(), -100)};
  const size_t n = ids.size();
  auto selectable = [&](size_t i) {
    const int64_t id = ids[i];
    if (id < 0 || id >= vocab.vocab_size)
      throw std::out_of_range("mask_sequence: token id " + std::to_string(id) +
                              " outside the vocabulary of " + std::to_string(vocab.vocab_size));
    return !vocab.never_select[static_cast<size_t>(id)];
  };
  auto replace = [&](size_t i) {
    out.labels[i] = ids[i];
    const double r = uniform_unit(rng);
    if (r < options.mask_token_ratio)
      out.input_ids[i] = vocab.mask_id;
    else if (r < options.mask_token_ratio + options.random_token_ratio)
      out.input_ids[i] = uniform_index(rng, vocab.vocab_size);
  };
  for (size_t i = 0; i < n;) {
    if (!selectable(i)) {
      ++i;
      continue;
    }
    // A word: this piece and the "##" pieces that follow it (only with whole-word masking).
    size_t end = i + 1;
    if (options.whole_word)
      while (end < n && selectable(end) && vocab.continuation[static_cast<size_t>(ids[end])]) ++end;
    if (uniform_unit(rng) < options.mask_probability)
      for (size_t k = i; k < end; ++k) replace(k);
    i = end;
  }
  return out;
}

}  // namespace zoo
