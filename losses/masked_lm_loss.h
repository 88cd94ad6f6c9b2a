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

}  // namespace zoo
