#pragma once
// Losses for sentence-pair similarity (STS): the Tai et al. (2015) distribution loss, the
// default, and plain regression of the score, the alternative (HF num_labels=1 style).
#include <torch/torch.h>

namespace zoo {

// KL(p || softmax(logits)) per example, averaged over the batch (PyTorch kl_div 'batchmean',
// the true KL; 'mean' would also divide by K). logits and target_distribution are [N, K] with
// N > 0; each target row is a distribution (see data/sts_targets.h). Entries with p = 0
// contribute exactly 0, so the sparse targets give no 0 * log 0 NaN. The gradient with respect
// to the logits is (softmax(logits) - p) / N; no gradient flows into the target.
torch::Tensor sts_distribution_loss(const torch::Tensor& logits, const torch::Tensor& target_distribution);

// Mean squared error between predicted and gold scores, both [N]. The shapes must match
// exactly: [N] against [N, 1] would silently broadcast to an [N, N] difference.
torch::Tensor sts_regression_loss(const torch::Tensor& prediction, const torch::Tensor& scores);

}  // namespace zoo
