#include "models/heatmap_keypoints.h"

namespace zoo {

std::pair<torch::Tensor, torch::Tensor> axis_logits(const torch::Tensor& logits) {
  return {logits.logsumexp(2), logits.logsumexp(3)};
}

HeatmapKeypointModelImpl::HeatmapKeypointModelImpl(const HeatmapKeypointsOptions& o) : options(o) {
  net = register_module("net", HeatmapNet(o.net));
  soft_argmax = register_module("soft_argmax", SoftArgmax2d(o.soft_argmax));
}

HeatmapKeypointModelImpl::Output HeatmapKeypointModelImpl::forward(const torch::Tensor& images) {
  const torch::Tensor logits = net->forward(images);
  if (options.head == "soft_argmax") {
    SoftArgmaxOutput out = soft_argmax->forward_with_heatmaps(logits);
    return {out.coords, out.heatmaps};
  }
  const auto [lx, ly] = axis_logits(logits);
  const auto px = lx.softmax(-1), py = ly.softmax(-1);
  const auto gx = coordinate_grid(lx.size(-1), CoordConvention::kPixelCentre, px.options());
  const auto gy = coordinate_grid(ly.size(-1), CoordConvention::kPixelCentre, py.options());
  const auto coords = torch::stack({(px * gx).sum(-1), (py * gy).sum(-1)}, -1);
  return {coords, py.unsqueeze(-1) * px.unsqueeze(-2)};
}

}  // namespace zoo
