#pragma once
// Assigns each prediction (anchor) to a ground-truth box from their M x N quality (IoU) matrix,
// torchvision 0.14's Matcher (torchvision/models/detection/_utils.py; spec §5.4):
//   1. every anchor takes its best gt (argmax over gts, first index on ties);
//   2. best IoU >= high -> that gt index; low <= IoU < high -> kBetweenThresholds (-2);
//      IoU < low -> kBelowLowThreshold (-1);
//   3. with allow_low_quality_matches, for every gt the anchors achieving its highest IoU (all
//      of them when tied) get back their own step-1 gt, which need not be this gt.
//
// Differences from torchvision, none in a case torchvision handles sensibly:
//   * zero_iou_guard (default on): step 3 skips a gt whose highest IoU is 0. In torchvision such
//     a gt (overlapping no anchor) "ties" with every zero-IoU anchor and turns all of them into
//     positives of their (arbitrary) argmax gt (spec §5.4, "Hazard"). Off = torchvision exactly.
//   * No gt boxes (M = 0): every anchor is kBelowLowThreshold (background) instead of an error;
//     no anchors (N = 0): an empty result.
#include <torch/torch.h>

namespace zoo {

struct MatcherOptions {
  double high_threshold = 0.7;  // RPN fg_iou_thresh
  double low_threshold = 0.3;   // RPN bg_iou_thresh
  bool allow_low_quality_matches = true;
  bool zero_iou_guard = true;
};

class Matcher {
 public:
  static constexpr int64_t kBelowLowThreshold = -1;
  static constexpr int64_t kBetweenThresholds = -2;

  explicit Matcher(MatcherOptions options = {});

  // match_quality [M, N] (gt x anchor) -> int64 [N]: gt index in [0, M), or -1 / -2.
  torch::Tensor operator()(const torch::Tensor& match_quality) const;

  const MatcherOptions& options() const { return options_; }

 private:
  MatcherOptions options_;
};

}  // namespace zoo
