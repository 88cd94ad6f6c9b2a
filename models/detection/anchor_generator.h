#pragma once
// Anchor boxes of a region proposal network, torchvision 0.14's AnchorGenerator
// (torchvision/models/detection/anchor_utils.py; spec §5.1).
//
// Per feature level l, sizes S_l x aspect ratios R_l (ratio = height / width) give
// A_l = |R_l| * |S_l| zero-centred "cell" anchors, ratio-major: index = ratio_idx * |S_l| +
// size_idx, anchor = round([-w, -h, w, h] / 2) with w = s / sqrt(r), h = s * sqrt(r), rounded
// half to even in float32 (torch.round; std::round would round 22.5 up). Each level is tiled
// over its H_l x W_l feature map with stride = padded image size / feature size (integer
// division per axis, as torchvision: a 13-row map of an 800-row batch gets stride 61, not
// 64) and no half-stride offset: the anchors of location (i, j) are centred on (j * stride_w,
// i * stride_h). Order: levels concatenated; within a level row-major over locations (y outer,
// x inner) with the A_l cell anchors innermost, matching the RPN head's flattened outputs.
#include <torch/torch.h>

#include <array>
#include <vector>

namespace zoo {

struct AnchorGeneratorOptions {
  // One entry per feature level. The default is torchvision's AnchorGenerator() and the
  // Faster R-CNN paper's single stride-16 level: 3 sizes x 3 ratios = 9 anchors per location.
  std::vector<std::vector<double>> sizes = {{128.0, 256.0, 512.0}};
  std::vector<std::vector<double>> aspect_ratios = {{0.5, 1.0, 2.0}};
};

class AnchorGenerator {
 public:
  explicit AnchorGenerator(AnchorGeneratorOptions options = {});

  int64_t num_levels() const { return static_cast<int64_t>(cell_anchors_.size()); }
  // A_l per level.
  std::vector<int64_t> num_anchors_per_location() const;
  // Level l's zero-centred anchors [A_l, 4], float32 on the CPU.
  const torch::Tensor& cell_anchors(int64_t level) const;

  // All anchors [sum_l H_l * W_l * A_l, 4] for a padded batch of padded_size = (height, width)
  // and the per-level feature-map sizes (H_l, W_l); every image of the batch shares them.
  // dtype and device of the result as given (torchvision: those of the first feature map).
  torch::Tensor grid_anchors(const std::array<int64_t, 2>& padded_size,
                             const std::vector<std::array<int64_t, 2>>& feature_sizes,
                             const torch::TensorOptions& options = {}) const;
  // Same, with the sizes, dtype and device taken from the feature maps [N, C, H_l, W_l].
  torch::Tensor operator()(const std::array<int64_t, 2>& padded_size,
                           const std::vector<torch::Tensor>& features) const;

  const AnchorGeneratorOptions& options() const { return options_; }

 private:
  AnchorGeneratorOptions options_;
  std::vector<torch::Tensor> cell_anchors_;
};

}  // namespace zoo
