#pragma once
// The model side of task "heatmap" (the data, metrics and pictures are the keypoints task's, in
// 2D): HeatmapNet's per-keypoint heatmap logits turned into coordinates by one of two heads,
//   soft_argmax  spatial softmax (inverse temperature beta) and the expected (x, y), trained with
//                a coordinate loss (losses/keypoint_loss.h on the 2D points) plus, optionally, the
//                DSNT Jensen-Shannon regulariser pulling each map towards a Gaussian at the target;
//   per_axis     the classic alternative: the heatmap logits marginalised (logsumexp) to one
//                softmax over x bins and one over y bins, trained with cross-entropy on the bins
//                of the target; the prediction is the expectation of each axis's softmax.
// Coordinates are normalised in the pixel-centre (DSNT, align_corners=False) convention of the
// batches' "uv" key, which does not depend on the heatmap resolution: a heatmap at half the
// image size predicts the same numbers as one at full size.
#include <torch/torch.h>

#include <string>

#include "losses/keypoint_loss.h"
#include "models/heatmap_net.h"
#include "models/soft_argmax.h"
#include "train/config.h"

namespace zoo {

struct HeatmapModelOptions {
  HeatmapNetOptions net;
  std::string head = "soft_argmax";  // soft_argmax | per_axis
  SoftArgmaxOptions soft_argmax;
  KeypointLossOptions coord_loss{"l1", 1.0};  // the twin's L1 on the normalised coordinates
  double js_weight = 0.0;                     // weight of the JS heatmap regulariser (0 = off)
  double js_sigma = 1.0;                      // its Gaussian's sigma, in heatmap cells
};

// Keys "model" and "loss" of a heatmap config, and their reading (UserError naming the key).
Json heatmap_model_defaults();
Json heatmap_loss_defaults();
HeatmapModelOptions heatmap_model_options(const Config& cfg);

class HeatmapKeypointModelImpl : public torch::nn::Module {
 public:
  explicit HeatmapKeypointModelImpl(const HeatmapModelOptions& options);

  struct Output {
    torch::Tensor coords;    // [B, K, 2] normalised (x, y), pixel-centre convention
    torch::Tensor heatmaps;  // [B, K, h, w] probabilities (per map sum 1; per_axis: outer product)
  };
  Output forward(const torch::Tensor& images);
  // Mean training loss of a batch: uv [B, K, 2] targets as above, visible [B, K].
  torch::Tensor loss(const torch::Tensor& images, const torch::Tensor& uv, const torch::Tensor& visible);
  // TorchScript (no Python): images [B, 3, S, S] -> (coords [B, K, 2], heatmaps [B, K, h, w]),
  // eval-mode BatchNorm; written atomically.
  void export_torchscript(const std::string& path);

  HeatmapModelOptions options;
  HeatmapNet net{nullptr};
  SoftArgmax2d soft_argmax{nullptr};
};
TORCH_MODULE(HeatmapKeypointModel);

}  // namespace zoo
