#pragma once
// Box regression parameterisation of R-CNN, torchvision 0.14's BoxCoder
// (torchvision/models/detection/_utils.py; spec §5.3). Widths without "+1":
//   w = x2 - x1, cx = x1 + w / 2 (same for h, y)
//   encode: dx = wx (g_cx - a_cx) / a_w, dy = wy (g_cy - a_cy) / a_h,
//           dw = ww log(g_w / a_w), dh = wh log(g_h / a_h)
//   decode: the inverse, with dw, dh (after dividing by the weights) clamped from above at
//           bbox_xform_clip = log(1000 / 16) so exp() cannot overflow; dx, dy are not clamped.
// Every expression is evaluated in torchvision's order, so float32 results are bitwise equal.
#include <torch/torch.h>

#include <array>
#include <cmath>

namespace zoo {

struct BoxCoderOptions {
  std::array<double, 4> weights{1.0, 1.0, 1.0, 1.0};  // (wx, wy, ww, wh); RPN: all 1
  double bbox_xform_clip = std::log(1000.0 / 16.0);   // 4.135166556742356
};

class BoxCoder {
 public:
  explicit BoxCoder(BoxCoderOptions options = {}) : options_(options) {}

  // Targets [N, 4] of reference_boxes (ground truth) [N, 4] relative to proposals (anchors) [N, 4].
  torch::Tensor encode(const torch::Tensor& reference_boxes, const torch::Tensor& proposals) const;
  // Boxes [N, 4k] from rel_codes [N, 4k] (k boxes per reference, e.g. one per class) applied to
  // reference boxes [N, 4]. The result has rel_codes' dtype.
  torch::Tensor decode(const torch::Tensor& rel_codes, const torch::Tensor& boxes) const;

  const BoxCoderOptions& options() const { return options_; }

 private:
  BoxCoderOptions options_;
};

}  // namespace zoo
