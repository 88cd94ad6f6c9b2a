#include "losses/rpn_loss.h"

namespace zoo {

RpnLosses rpn_loss(const torch::Tensor& objectness, const torch::Tensor& pred_deltas,
                   const torch::Tensor& labels, const torch::Tensor& regression_targets,
                   const torch::Tensor& sampled_positive, const torch::Tensor& sampled_negative,
                   double smooth_l1_beta) {
  const int64_t t = objectness.numel();
  TORCH_CHECK(pred_deltas.dim() == 2 && pred_deltas.size(0) == t && pred_deltas.size(1) == 4 &&
                  regression_targets.sizes() == pred_deltas.sizes() && labels.numel() == t,
              "rpn_loss: need objectness [T], pred_deltas [T, 4], labels [T] and "
              "regression_targets [T, 4], got ",
              objectness.sizes(), ", ", pred_deltas.sizes(), ", ", labels.sizes(), " and ",
              regression_targets.sizes());
  const auto pos = sampled_positive.to(torch::kLong).reshape(-1);
  const auto neg = sampled_negative.to(torch::kLong).reshape(-1);
  const auto sampled = torch::cat({pos, neg});
  const auto logits = objectness.reshape(-1);
  if (sampled.numel() == 0) {
    const auto zero = logits.sum() * 0 + pred_deltas.sum() * 0;
    return {zero, zero.clone()};
  }
  const auto sampled_labels = labels.reshape(-1).index({sampled}).to(logits.scalar_type());
  const auto expected = torch::cat({torch::ones({pos.numel()}, sampled_labels.options()),
                                    torch::zeros({neg.numel()}, sampled_labels.options())});
  TORCH_CHECK(sampled_labels.equal(expected),
              "rpn_loss: sampled positives must be labelled 1 and sampled negatives 0");

  const auto box = torch::smooth_l1_loss(pred_deltas.index({pos}), regression_targets.index({pos}),
                                         at::Reduction::Sum, smooth_l1_beta) /
                   static_cast<double>(sampled.numel());
  const auto obj = torch::binary_cross_entropy_with_logits(logits.index({sampled}), sampled_labels);
  return {obj, box};
}

}  // namespace zoo
