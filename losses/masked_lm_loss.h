#pragma once
// The masked-language-model loss: cross-entropy between the predicted distribution over the
// vocabulary and the ORIGINAL token id, counted only where a label is given (-100 elsewhere).
#include <torch/torch.h>

namespace zoo {

constexpr int64_t kIgnoreLabel = -100;

struct MaskedLmLossOptions {
  double label_smoothing = 0.0;
};

// logits [N, V] (or [B, T, V]), labels [N] (or [B, T]) with kIgnoreLabel at unmasked positions.
// Mean over labelled positions; a batch without any labelled position gives exactly 0 (with a
// zero gradient) instead of cross_entropy's NaN.
torch::Tensor masked_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels,
                             const MaskedLmLossOptions& options = {});

// Pads the masked positions [N] and their labels [N] to a multiple of `multiple` rows with ignored
// ones (position 0, kIgnoreLabel), which masked_lm_loss skips: the decoder then sees few distinct
// shapes although the masked count changes every step (see the mlm task's masked_logits).
std::pair<torch::Tensor, torch::Tensor> pad_masked_rows(const torch::Tensor& positions,
                                                        const torch::Tensor& labels, int64_t multiple);

}  // namespace zoo
