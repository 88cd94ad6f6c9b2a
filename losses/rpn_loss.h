#pragma once
// Region proposal network losses, torchvision 0.14's RegionProposalNetwork.compute_loss
// (torchvision/models/detection/rpn.py; spec §5.6), over the anchors the sampler picked for the
// whole batch (S = #sampled positives + #sampled negatives, all images together):
//   objectness = mean over the S sampled anchors of BCE-with-logits(logit, label)
//   box_reg    = sum over sampled positives and their 4 coordinates of
//                smooth_l1(delta - target; beta = 1/9)  /  S          <- divided by S, not #pos
// beta = 1/9 is the authors' sigma = 3 (beta = 1 / sigma^2). The RPN loss is their sum (λ = 1).
#include <torch/torch.h>

namespace zoo {

struct RpnLosses {
  torch::Tensor objectness;  // scalar
  torch::Tensor box_reg;     // scalar
};

// objectness [T] logits and pred_deltas [T, 4] of all T anchors of the batch (image-major, the
// RPN's flattened order); labels [T] (1 positive, 0 negative, -1 ignored) and
// regression_targets [T, 4] aligned with them; sampled_positive / sampled_negative int64
// indices into [0, T). Sampled labels must be 1 (positives) and 0 (negatives): anything else
// is an error rather than a silently wrong loss. With nothing sampled both losses are 0
// (torchvision gives NaN), still connected to the graph.
RpnLosses rpn_loss(const torch::Tensor& objectness, const torch::Tensor& pred_deltas,
                   const torch::Tensor& labels, const torch::Tensor& regression_targets,
                   const torch::Tensor& sampled_positive, const torch::Tensor& sampled_negative,
                   double smooth_l1_beta = 1.0 / 9.0);

}  // namespace zoo
