#include "models/detection/rpn_script.h"

#include <iomanip>
#include <sstream>

namespace zoo {
namespace {

// Doubles printed so they parse back to the same value.
std::string lit(double v) {
  std::ostringstream s;
  s << std::setprecision(17) << v;
  std::string out = s.str();
  if (out.find_first_of(".eE") == std::string::npos && out.find("inf") == std::string::npos &&
      out.find("nan") == std::string::npos)
    out += ".0";
  return out;
}

std::string tensor_literal(const torch::Tensor& cell) {
  const auto c = cell.to(torch::kDouble).contiguous();
  std::ostringstream s;
  s << "torch.tensor([";
  for (int64_t i = 0; i < c.size(0); ++i) {
    s << (i ? ", [" : "[");
    for (int64_t j = 0; j < 4; ++j) s << (j ? ", " : "") << lit(c[i][j].item<double>());
    s << "]";
  }
  s << "])";  // float32, TorchScript's default dtype
  return s.str();
}

}  // namespace

std::string rpn_proposal_script(const RpnOptions& o, bool training) {
  const AnchorGenerator anchors(o.anchors);
  const BoxCoderOptions coder;  // the RPN's box coder: weights (1, 1, 1, 1)
  const auto& w = coder.weights;
  std::ostringstream s;
  // Module::define has no Python resolver, so dtype names (torch.float32, torch.bool) cannot be
  // written: dtypes come from defaults, comparisons, .long() and the inputs' .dtype instead.

  // Anchors: the same integer-division strides and (y, x, anchor) order as AnchorGenerator.
  s << "def rpn_anchors(self, padded_size: List[int], features: List[Tensor]) -> Tensor:\n"
       "    assert len(features) == "
    << anchors.num_levels()
    << "\n"
       "    like = features[0]\n"
       "    levels: List[Tensor] = []\n";
  for (int64_t l = 0; l < anchors.num_levels(); ++l)
    s << "    levels.append(self.rpn_grid(" << tensor_literal(anchors.cell_anchors(l))
      << ", padded_size, features[" << l << "], like))\n";
  s << "    return torch.cat(levels, 0)\n"
       "\n"
       "def rpn_grid(self, cell: Tensor, padded_size: List[int], feature: Tensor, like: Tensor) -> "
       "Tensor:\n"
       "    gh = feature.size(2)\n"
       "    gw = feature.size(3)\n"
       "    sx = torch.arange(gw, device=like.device) * (padded_size[1] // gw)\n"
       "    sy = torch.arange(gh, device=like.device) * (padded_size[0] // gh)\n"
       "    xs = sx.view(1, -1).expand(gh, gw).reshape(-1)\n"
       "    ys = sy.view(-1, 1).expand(gh, gw).reshape(-1)\n"
       "    shifts = torch.stack([xs, ys, xs, ys], 1).to(like.dtype)\n"
       "    base = cell.to(like.device).to(like.dtype)\n"
       "    return (shifts.view(-1, 1, 4) + base.view(1, -1, 4)).reshape(-1, 4)\n"
       "\n";

  // Box decoding, one code per anchor, in BoxCoder::decode's order of operations.
  s << "def rpn_decode(self, deltas: Tensor, anchors: Tensor) -> Tensor:\n"
       "    b = anchors.to(deltas.dtype)\n"
       "    widths = (b[:, 2] - b[:, 0]).unsqueeze(1)\n"
       "    heights = (b[:, 3] - b[:, 1]).unsqueeze(1)\n"
       "    ctr_x = b[:, 0].unsqueeze(1) + 0.5 * widths\n"
       "    ctr_y = b[:, 1].unsqueeze(1) + 0.5 * heights\n"
       "    dx = deltas[:, 0::4] / "
    << lit(w[0]) << "\n    dy = deltas[:, 1::4] / " << lit(w[1])
    << "\n    dw = torch.clamp(deltas[:, 2::4] / " << lit(w[2]) << ", max=" << lit(coder.bbox_xform_clip)
    << ")\n    dh = torch.clamp(deltas[:, 3::4] / " << lit(w[3]) << ", max=" << lit(coder.bbox_xform_clip)
    << ")\n"
       "    pred_ctr_x = dx * widths + ctr_x\n"
       "    pred_ctr_y = dy * heights + ctr_y\n"
       "    half_w = 0.5 * (torch.exp(dw) * widths)\n"
       "    half_h = 0.5 * (torch.exp(dh) * heights)\n"
       "    return torch.stack([pred_ctr_x - half_w, pred_ctr_y - half_h, pred_ctr_x + half_w, "
       "pred_ctr_y + half_h], 2).flatten(1)\n"
       "\n";

  // NMS within categories: the IoU of every pair in stable score order, then one greedy pass.
  // The IoU expression is box_ops' (intersection / (area_i + area_j - intersection)).
  s << "def rpn_batched_nms(self, boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: "
       "float) -> Tensor:\n"
       "    n = boxes.size(0)\n"
       "    if n == 0:\n"
       "        return torch.zeros([0], device=boxes.device).long()\n"
       "    order = torch.sort(scores, stable=True, dim=0, descending=True)[1]\n"
       "    b = boxes[order]\n"
       "    c = idxs[order]\n"
       "    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])\n"
       "    lt = torch.max(b[:, None, :2], b[None, :, :2])\n"
       "    rb = torch.min(b[:, None, 2:], b[None, :, 2:])\n"
       "    wh = (rb - lt).clamp(min=0)\n"
       "    inter = wh[:, :, 0] * wh[:, :, 1]\n"
       "    iou = inter / (area[:, None] + area[None, :] - inter)\n"
       "    rank = torch.arange(n, device=boxes.device)\n"
       "    over = (iou.double() > iou_threshold) & (c[:, None] == c[None, :]) & (rank[None, :] > "
       "rank[:, None])\n"
       "    over = over.cpu()\n"
       "    keep = torch.ones([n]) > 0\n"
       "    for i in range(n):\n"
       "        if bool(keep[i]):\n"
       "            keep = keep & ~over[i]\n"
       "    return order[keep.to(order.device)]\n"
       "\n";

  // Proposal filtering for one image, as RegionProposalNetwork::filter_proposals.
  const int64_t pre = training ? o.pre_nms_top_n_train : o.pre_nms_top_n_test;
  const int64_t post = training ? o.post_nms_top_n_train : o.post_nms_top_n_test;
  s << "def rpn_proposals(self, objectness: Tensor, deltas: Tensor, anchors: Tensor, image_size: "
       "List[int], num_anchors_per_level: List[int]) -> Tuple[Tensor, Tensor]:\n"
       "    objectness = objectness.detach().reshape(-1)\n"
       "    deltas = deltas.detach().reshape(-1, 4)\n"
       "    top: List[Tensor] = []\n"
       "    lvl: List[Tensor] = []\n"
       "    offset = 0\n"
       "    for level, n in enumerate(num_anchors_per_level):\n"
       "        idx = torch.topk(objectness.narrow(0, offset, n), min("
    << pre
    << ", n))[1] + offset\n"
       "        top.append(idx)\n"
       "        lvl.append(torch.full_like(idx, level))\n"
       "        offset += n\n"
       "    assert offset == objectness.size(0)\n"
       "    idx = torch.cat(top, 0)\n"
       "    levels = torch.cat(lvl, 0)\n"
       "    scores = torch.sigmoid(objectness[idx])\n"
       "    boxes = self.rpn_decode(deltas[idx], anchors[idx])\n"
       "    x = boxes[:, 0::2].clamp(min=0, max=image_size[1])\n"
       "    y = boxes[:, 1::2].clamp(min=0, max=image_size[0])\n"
       "    boxes = torch.stack([x, y], 2).reshape(-1, 4)\n"
       "    ws = boxes[:, 2] - boxes[:, 0]\n"
       "    hs = boxes[:, 3] - boxes[:, 1]\n"
       "    keep = torch.nonzero((ws >= "
    << lit(o.min_size) << ") & (hs >= " << lit(o.min_size)
    << ")).squeeze(1)\n"
       "    boxes, scores, levels = boxes[keep], scores[keep], levels[keep]\n"
       "    keep = torch.nonzero(scores >= "
    << lit(o.score_thresh)
    << ").squeeze(1)\n"
       "    boxes, scores, levels = boxes[keep], scores[keep], levels[keep]\n"
       "    keep = self.rpn_batched_nms(boxes, scores, levels, "
    << lit(o.nms_thresh) << ")[:" << post
    << "]\n"
       "    return boxes[keep], scores[keep]\n";
  return s.str();
}

}  // namespace zoo
