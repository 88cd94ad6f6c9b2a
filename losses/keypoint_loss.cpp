#include "losses/keypoint_loss.h"

namespace zoo {

torch::Tensor keypoint_loss(const torch::Tensor& pred, const torch::Tensor& target,
                            const torch::Tensor& visible, const KeypointLossOptions& options) {
  TORCH_CHECK(pred.dim() == 3 && pred.sizes() == target.sizes(),
              "keypoint_loss: pred and target must both be [B, K, D], got ", pred.sizes(), " and ",
              target.sizes());
  TORCH_CHECK(!visible.defined() || visible.sizes() == pred.sizes().slice(0, 2),
              "keypoint_loss: visible must be [B, K] = ", pred.sizes().slice(0, 2), ", got ",
              visible.sizes());
  auto e = pred - target;
  if (e.scalar_type() != torch::kDouble) e = e.to(torch::kFloat);  // no-op for float
  const int64_t dims = e.size(2);
  torch::Tensor m;
  if (visible.defined()) {
    m = visible.to(e.scalar_type());
    // Zero the error of masked keypoints first, so a NaN placeholder in an unlabelled target
    // cannot leak into the loss or the gradient through 0 * NaN.
    e = e.masked_fill((m <= 0).unsqueeze(-1), 0.0);
  }

  // Per-keypoint loss [B, K].
  torch::Tensor per_keypoint;
  const auto& kind = options.kind;
  if (kind == "euclidean") {
    per_keypoint = (e.square().sum(-1) + kKeypointEuclideanEps).sqrt();
  } else if (kind == "l1") {
    per_keypoint = e.abs().sum(-1);
  } else if (kind == "mse") {
    per_keypoint = e.square().sum(-1);
  } else if (kind == "smooth_l1") {
    TORCH_CHECK(options.smooth_l1_beta >= 0, "keypoint_loss: smooth_l1_beta must be >= 0");
    per_keypoint = torch::smooth_l1_loss(e, torch::zeros_like(e), at::Reduction::None,
                                         options.smooth_l1_beta)
                       .sum(-1);
  } else {
    TORCH_CHECK(false, "keypoint_loss: unknown kind '", kind,
                "' (euclidean | l1 | mse | smooth_l1)");
  }
  // Coordinate-wise kinds average over the D coordinates of each visible keypoint.
  const double per_coord = kind == "euclidean" ? 1.0 : 1.0 / static_cast<double>(dims);

  if (!m.defined()) return per_keypoint.mean() * per_coord;
  // Weights multiply (not index), keeping the expression shape-static; sum m = 0 gives 0 / 1.
  return (per_keypoint * m).sum() / m.sum().clamp_min(1.0) * per_coord;
}

}  // namespace zoo
