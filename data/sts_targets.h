#pragma once
// Tai, Socher & Manning (2015) similarity targets: a real-valued score y on an integer scale
// r = [min_score, min_score + 1, ..., min_score + K - 1] becomes a distribution p over the K
// classes with two adjacent non-zeros and expectation exactly y; the model predicts r^T p.
// STS-B: min_score 0, K = 6 (r = 0..5). SICK: min_score 1, K = 5 (r = 1..5).
#include <torch/torch.h>

#include <cstdint>

namespace zoo {

// scores [N] (floating point, any device) -> [N, K] of the same dtype and device. With
// t = y - min_score and f = floor(t): p[f] = f + 1 - t, p[f + 1] = t - f; at the top of the scale
// (t = K - 1) p[K - 1] = 1 and index K is never written; at the bottom p[0] = 1. Indices are
// 0-based offsets from min_score, so a score of min_score can never wrap to the last class (the
// SICK-coded mapper's floor(y) - 1 does that for STS-B's 0). Computed in double, then cast.
// Throws std::invalid_argument naming the value when a score is outside
// [min_score, min_score + K - 1] or NaN, and when num_classes < 2 or scores is not 1-D.
torch::Tensor sparse_target_distribution(const torch::Tensor& scores, double min_score, int64_t num_classes);

// probabilities [N, K] -> [N]: r^T p with r_i = min_score + i. Differentiable (it is the
// prediction of a distribution head); the inverse of sparse_target_distribution.
torch::Tensor expected_score(const torch::Tensor& probabilities, double min_score);

}  // namespace zoo
