#pragma once
// Keypoints from heatmaps: HeatmapNet's per-keypoint heatmap logits turned into coordinates by
// one of two heads,
//   soft_argmax  spatial softmax (inverse temperature beta) and the expected (x, y);
//   per_axis     the classic alternative: the heatmap logits marginalised (logsumexp) to one
//                softmax over x bins and one over y bins; the prediction is the expectation of
//                each axis's softmax.
// Coordinates are normalised in the pixel-centre (DSNT, align_corners=False) convention, which
// does not depend on the heatmap resolution: a heatmap at half the image size predicts the same
// numbers as one at full size. The losses are the heatmap task's (train/tasks/heatmap).
#include <torch/torch.h>

#include <string>
#include <utility>

#include "models/heatmap_net.h"
#include "models/soft_argmax.h"

namespace zoo {

struct HeatmapKeypointsOptions {
  HeatmapNetOptions net;
  std::string head = "soft_argmax";  // soft_argmax | per_axis
  SoftArgmaxOptions soft_argmax;
};

// Per-axis logits of heatmap logits [B, K, h, w]: the log of each marginal of the joint softmax,
// x: [B, K, w], y: [B, K, h].
std::pair<torch::Tensor, torch::Tensor> axis_logits(const torch::Tensor& logits);

class HeatmapKeypointModelImpl : public torch::nn::Module {
 public:
  explicit HeatmapKeypointModelImpl(const HeatmapKeypointsOptions& options);

  struct Output {
    torch::Tensor coords;    // [B, K, 2] normalised (x, y), pixel-centre convention
    torch::Tensor heatmaps;  // [B, K, h, w] probabilities (per map sum 1; per_axis: outer product)
  };
  Output forward(const torch::Tensor& images);

  HeatmapKeypointsOptions options;
  HeatmapNet net{nullptr};
  SoftArgmax2d soft_argmax{nullptr};
};
TORCH_MODULE(HeatmapKeypointModel);

}  // namespace zoo
