#pragma once
// Region proposal network of Faster R-CNN with torchvision 0.14's semantics
// (torchvision/models/detection/rpn.py; spec §5): anchors, head, box coding, proposal filtering,
// and the training targets (matching + balanced sampling) that losses/rpn_loss.h turns into
// the two RPN losses. The loss lives with the other losses, so a training step is
//
//   auto out = rpn->forward(padded_size, image_sizes, features);
//   auto t = rpn->training_targets(out, gt_boxes);
//   auto l = rpn_loss(out.objectness, out.pred_deltas, t.labels, t.regression_targets,
//                     t.sampled_positive, t.sampled_negative);
//
// Proposal filtering (spec §5.7), per image: on every level the top pre_nms_top_n logits ->
// sigmoid -> decode (from detached deltas) and clip to the image's own (unpadded) size -> drop
// boxes narrower or lower than min_size -> drop scores < score_thresh -> NMS per level at
// nms_thresh -> the first post_nms_top_n by score. The top-n values are those of the module's
// mode: train() or eval().
#include <torch/torch.h>

#include <array>
#include <utility>
#include <vector>

#include "models/detection/anchor_generator.h"
#include "models/detection/balanced_sampler.h"
#include "models/detection/box_coder.h"
#include "models/detection/matcher.h"
#include "models/detection/rpn_head.h"

namespace zoo {

using ImageSize = std::array<int64_t, 2>;  // (height, width), torchvision's order

// Defaults: torchvision's FasterRCNN (the head's input channels have no default).
struct RpnOptions {
  int64_t in_channels = 0;
  AnchorGeneratorOptions anchors;  // 9 anchors on one level
  int64_t conv_depth = 1;
  double fg_iou_thresh = 0.7;
  double bg_iou_thresh = 0.3;
  bool zero_iou_guard = true;  // see matcher.h; false = torchvision exactly
  int64_t batch_size_per_image = 256;
  double positive_fraction = 0.5;
  int64_t pre_nms_top_n_train = 2000;  // per level
  int64_t pre_nms_top_n_test = 1000;
  int64_t post_nms_top_n_train = 2000;  // per image
  int64_t post_nms_top_n_test = 1000;
  double nms_thresh = 0.7;
  double score_thresh = 0.0;
  double min_size = 1e-3;
};

struct RpnOutput {
  std::vector<torch::Tensor> boxes;   // per image [K_i, 4] proposals by decreasing score, no grad
  std::vector<torch::Tensor> scores;  // per image [K_i] objectness probabilities, no grad
  torch::Tensor objectness;           // [N * T] logits, image-major, anchor order (with grad)
  torch::Tensor pred_deltas;          // [N * T, 4] (with grad)
  torch::Tensor anchors;              // [T, 4], the same for every image of the batch
  std::vector<int64_t> num_anchors_per_level;
};

// Training targets of a batch, aligned with RpnOutput's objectness / pred_deltas.
struct RpnTargets {
  torch::Tensor matched_idxs;        // [N * T] int64: gt index within its image, or -1 / -2
  torch::Tensor labels;              // [N * T] float: 1 positive, 0 negative, -1 ignored
  torch::Tensor regression_targets;  // [N * T, 4]: box-coder targets w.r.t. gt[max(idx, 0)]
  torch::Tensor sampled_positive;    // int64 indices into [0, N * T), ascending
  torch::Tensor sampled_negative;
};

class RegionProposalNetworkImpl : public torch::nn::Module {
 public:
  explicit RegionProposalNetworkImpl(const RpnOptions& options);

  // padded_size: (H, W) of the padded batch tensor the features were computed from (it sets the
  // anchor strides); image_sizes: each image's size before padding (clips its proposals);
  // features: one [N, C, H_l, W_l] map per anchor level.
  RpnOutput forward(const ImageSize& padded_size, const std::vector<ImageSize>& image_sizes,
                    const std::vector<torch::Tensor>& features);

  // Matches anchors to gt_boxes (one [M_i, 4] tensor per image, M_i may be 0: all background)
  // and samples with the balanced sampler (torch's default generator).
  RpnTargets training_targets(const RpnOutput& output,
                              const std::vector<torch::Tensor>& gt_boxes) const;
  // Same with a given sample: per image, indices into that image's T anchors (golden tests).
  RpnTargets training_targets(const RpnOutput& output, const std::vector<torch::Tensor>& gt_boxes,
                              const std::vector<SampledIndices>& sample) const;

  // The filtering step alone: proposals [N, T, 4] (decoded anchors) and objectness [N, T].
  std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> filter_proposals(
      const torch::Tensor& proposals, const torch::Tensor& objectness,
      const std::vector<ImageSize>& image_sizes,
      const std::vector<int64_t>& num_anchors_per_level) const;

  const RpnOptions& options() const { return options_; }

  AnchorGenerator anchor_generator;
  RPNHead head{nullptr};
  BoxCoder box_coder;
  Matcher matcher;
  BalancedPositiveNegativeSampler sampler;

 private:
  RpnTargets match(const RpnOutput& output, const std::vector<torch::Tensor>& gt_boxes) const;

  RpnOptions options_;
};
TORCH_MODULE(RegionProposalNetwork);

// Flattens the head's per-level outputs (logits [N, A, H, W], deltas [N, 4A, H, W]) into the
// anchor order: objectness [N * T] and deltas [N * T, 4], T = sum_l H_l W_l A_l.
std::pair<torch::Tensor, torch::Tensor> concat_box_prediction_layers(
    const std::vector<torch::Tensor>& logits, const std::vector<torch::Tensor>& deltas);

}  // namespace zoo
