#include "models/detection/box_coder.h"

namespace zoo {

torch::Tensor BoxCoder::encode(const torch::Tensor& reference_boxes,
                               const torch::Tensor& proposals) const {
  TORCH_CHECK(reference_boxes.dim() == 2 && reference_boxes.size(1) == 4 &&
                  proposals.sizes() == reference_boxes.sizes(),
              "BoxCoder::encode: need two [N, 4] tensors, got ", reference_boxes.sizes(), " and ",
              proposals.sizes());
  // torchvision multiplies by the weights as a tensor of the boxes' dtype.
  const auto w =
      torch::tensor(std::vector<double>(options_.weights.begin(), options_.weights.end()),
                    reference_boxes.options());
  const auto col = [](const torch::Tensor& t, int64_t i) { return t.select(1, i).unsqueeze(1); };

  const auto ex_widths = col(proposals, 2) - col(proposals, 0);
  const auto ex_heights = col(proposals, 3) - col(proposals, 1);
  const auto ex_ctr_x = col(proposals, 0) + 0.5 * ex_widths;
  const auto ex_ctr_y = col(proposals, 1) + 0.5 * ex_heights;

  const auto gt_widths = col(reference_boxes, 2) - col(reference_boxes, 0);
  const auto gt_heights = col(reference_boxes, 3) - col(reference_boxes, 1);
  const auto gt_ctr_x = col(reference_boxes, 0) + 0.5 * gt_widths;
  const auto gt_ctr_y = col(reference_boxes, 1) + 0.5 * gt_heights;

  const auto dx = w[0] * (gt_ctr_x - ex_ctr_x) / ex_widths;
  const auto dy = w[1] * (gt_ctr_y - ex_ctr_y) / ex_heights;
  const auto dw = w[2] * torch::log(gt_widths / ex_widths);
  const auto dh = w[3] * torch::log(gt_heights / ex_heights);
  return torch::cat({dx, dy, dw, dh}, 1);
}

torch::Tensor BoxCoder::decode(const torch::Tensor& rel_codes, const torch::Tensor& boxes) const {
  TORCH_CHECK(rel_codes.dim() == 2 && rel_codes.size(1) % 4 == 0 && rel_codes.size(1) > 0,
              "BoxCoder::decode: rel_codes must be [N, 4k], got ", rel_codes.sizes());
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4 && boxes.size(0) == rel_codes.size(0),
              "BoxCoder::decode: boxes must be [N, 4] with N = ", rel_codes.size(0), ", got ",
              boxes.sizes());
  using torch::indexing::None;
  using torch::indexing::Slice;
  const auto b = boxes.to(rel_codes.scalar_type());
  const auto widths = (b.select(1, 2) - b.select(1, 0)).unsqueeze(1);
  const auto heights = (b.select(1, 3) - b.select(1, 1)).unsqueeze(1);
  const auto ctr_x = b.select(1, 0).unsqueeze(1) + 0.5 * widths;
  const auto ctr_y = b.select(1, 1).unsqueeze(1) + 0.5 * heights;

  const auto& wt = options_.weights;
  const auto every4 = [&](int64_t c) { return rel_codes.index({Slice(), Slice(c, None, 4)}); };
  const double clip = options_.bbox_xform_clip;
  const auto dx = every4(0) / wt[0];
  const auto dy = every4(1) / wt[1];
  const auto dw = (every4(2) / wt[2]).clamp_max(clip);
  const auto dh = (every4(3) / wt[3]).clamp_max(clip);

  const auto pred_ctr_x = dx * widths + ctr_x;
  const auto pred_ctr_y = dy * heights + ctr_y;
  const auto half_w = 0.5 * (torch::exp(dw) * widths);
  const auto half_h = 0.5 * (torch::exp(dh) * heights);
  return torch::stack(
             {pred_ctr_x - half_w, pred_ctr_y - half_h, pred_ctr_x + half_w, pred_ctr_y + half_h},
             2)
      .flatten(1);
}

}  // namespace zoo
