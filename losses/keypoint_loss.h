#pragma once
// Keypoint regression losses with a per-keypoint visibility mask (spec §4.1).
#include <torch/torch.h>

#include <string>

namespace zoo {

struct KeypointLossOptions {
  std::string kind = "euclidean";  // euclidean | l1 | mse | smooth_l1
  double smooth_l1_beta = 1.0;     // torch's smooth_l1 beta; 0 gives l1
};

// Added under the square root of the Euclidean loss: sqrt(sum e^2 + eps) has a finite (zero)
// gradient at exactly zero error, where plain sqrt's is NaN. It biases each distance by at most
// sqrt(eps) = 1e-6. Same formula as the Python twin (bench/peers/bench_keypoint_resnet.py).
constexpr double kKeypointEuclideanEps = 1e-12;

// pred, target [B, K, D]; visible [B, K] (bool or 0/1 or fractional weights m; undefined = all 1).
//   euclidean:  sum_nk m_nk sqrt(|e_nk|^2 + eps) / max(sum m, 1)    (mean per-keypoint distance)
//   l1 / mse / smooth_l1:  sum_nkd m_nk l(e_nkd) / (D * max(sum m, 1))   (mean over visible coords)
// Keypoints with m <= 0 are ignored even if their target is NaN. A batch with nothing visible
// gives 0 with a zero gradient. Half/bfloat16 inputs are computed in float (eps would underflow
// in half); the scalar result has the computation dtype (float or double).
torch::Tensor keypoint_loss(const torch::Tensor& pred, const torch::Tensor& target,
                            const torch::Tensor& visible = {},
                            const KeypointLossOptions& options = {});

}  // namespace zoo
