#include "io/formats/rpn_script.h"

#include <iomanip>
#include <sstream>

#include "io/formats/resnet_script.h"
#include "io/formats/torchscript.h"

namespace zoo {
namespace {

// Doubles printed so they parse back to the same value, always with a decimal point (an int
// literal would make TorchScript pick integer arithmetic).
std::string lit(double v) {
  std::ostringstream s;
  s << std::setprecision(17) << v;
  std::string out = s.str();
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

std::string cell_literal(const torch::Tensor& cell) {
  const auto c = cell.to(torch::kDouble).contiguous();
  std::ostringstream s;
  s << "torch.tensor([";  // float32, TorchScript's default dtype, like the C++ cell anchors
  for (int64_t i = 0; i < c.size(0); ++i) {
    s << (i ? ", [" : "[");
    for (int64_t j = 0; j < 4; ++j) s << (j ? ", " : "") << lit(c[i][j].item<double>());
    s << "]";
  }
  s << "])";
  return s.str();
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

// Module::define has no Python resolver, so dtype names (torch.float32, torch.bool) cannot be
// written: dtypes come from defaults, comparisons, .long() and the inputs' .dtype instead.
// @NAME@ placeholders are filled in from the options.
constexpr const char* kMethods = R"TS(
def rpn_grid(self, cell: Tensor, padded_size: List[int], feature: Tensor, like: Tensor) -> Tensor:
    gh = feature.size(2)
    gw = feature.size(3)
    sx = torch.arange(gw, device=like.device) * (padded_size[1] // gw)
    sy = torch.arange(gh, device=like.device) * (padded_size[0] // gh)
    xs = sx.view(1, -1).expand(gh, gw).reshape(-1)
    ys = sy.view(-1, 1).expand(gh, gw).reshape(-1)
    shifts = torch.stack([xs, ys, xs, ys], 1).to(like.dtype)
    base = cell.to(like.device).to(like.dtype)
    return (shifts.view(-1, 1, 4) + base.view(1, -1, 4)).reshape(-1, 4)

def rpn_decode(self, deltas: Tensor, anchors: Tensor) -> Tensor:
    b = anchors.to(deltas.dtype)
    widths = (b[:, 2] - b[:, 0]).unsqueeze(1)
    heights = (b[:, 3] - b[:, 1]).unsqueeze(1)
    ctr_x = b[:, 0].unsqueeze(1) + 0.5 * widths
    ctr_y = b[:, 1].unsqueeze(1) + 0.5 * heights
    dx = deltas[:, 0::4] / @WX@
    dy = deltas[:, 1::4] / @WY@
    dw = torch.clamp(deltas[:, 2::4] / @WW@, max=@CLIP@)
    dh = torch.clamp(deltas[:, 3::4] / @WH@, max=@CLIP@)
    pred_ctr_x = dx * widths + ctr_x
    pred_ctr_y = dy * heights + ctr_y
    half_w = 0.5 * (torch.exp(dw) * widths)
    half_h = 0.5 * (torch.exp(dh) * heights)
    return torch.stack([pred_ctr_x - half_w, pred_ctr_y - half_h,
                        pred_ctr_x + half_w, pred_ctr_y + half_h], 2).flatten(1)

def rpn_batched_nms(self, boxes: Tensor, scores: Tensor, idxs: Tensor,
                    iou_threshold: float) -> Tensor:
    n = boxes.size(0)
    if n == 0:
        return torch.zeros([0], device=boxes.device).long()
    order = torch.sort(scores, stable=True, dim=0, descending=True)[1]
    b = boxes[order]
    c = idxs[order]
    # IoU of every pair ([n, n]; box_iou's arithmetic in the boxes' dtype), from contiguous
    # columns: broadcasts over strided ones ran several times slower.
    columns = b.t().contiguous()
    x1 = columns[0]
    y1 = columns[1]
    x2 = columns[2]
    y2 = columns[3]
    area = (x2 - x1) * (y2 - y1)
    w = (torch.min(x2[:, None], x2[None, :]) - torch.max(x1[:, None], x1[None, :])).clamp(min=0)
    h = (torch.min(y2[:, None], y2[None, :]) - torch.max(y1[:, None], y1[None, :])).clamp(min=0)
    inter = w * h
    iou = inter / (area[:, None] + area[None, :] - inter)
    # iou > iou_threshold as box_ops compares it: against the largest value of iou's dtype that
    # is not above the threshold. NaN (two empty boxes) never suppresses.
    threshold = torch.zeros([1], device=iou.device).double() + iou_threshold
    below = threshold.to(iou.dtype)
    if bool(below.double() > threshold):
        below = torch.nextafter(below, below - 1)
    rank = torch.arange(n, device=boxes.device)
    over = (iou > below) & (rank[None, :] > rank[:, None])
    if bool((c != c[0]).any()):  # boxes of several levels: a box suppresses only its own level's
        over = over & (c[:, None] == c[None, :])
    over = over.to(iou.dtype)
    # Greedy NMS keeps box j unless a kept box ranked above it overlaps it. keep[j] depends on
    # keep[i] for i < j only, so the rule has one solution, and applying it to all boxes at once,
    # from "all kept", fixes at least one more box per round: at most n rounds, in practice as
    # many as the longest chain of overlaps, each a matrix-vector product instead of n
    # interpreted steps.
    keep = torch.ones([n], dtype=over.dtype, device=over.device)
    for _ in range(n):
        now = (torch.mv(over.t(), keep) == 0).to(over.dtype)
        if bool(torch.equal(now, keep)):
            break
        keep = now
    return order[keep > 0]

def rpn_proposals(self, objectness: Tensor, deltas: Tensor, anchors: Tensor,
                  image_size: List[int],
                  num_anchors_per_level: List[int]) -> Tuple[Tensor, Tensor]:
    objectness = objectness.detach().reshape(-1)
    deltas = deltas.detach().reshape(-1, 4)
    top: List[Tensor] = []
    lvl: List[Tensor] = []
    offset = 0
    for level, n in enumerate(num_anchors_per_level):
        idx = torch.topk(objectness.narrow(0, offset, n), min(@PRE_NMS@, n))[1] + offset
        top.append(idx)
        lvl.append(torch.full_like(idx, level))
        offset += n
    assert offset == objectness.size(0)
    idx = torch.cat(top, 0)
    levels = torch.cat(lvl, 0)
    scores = torch.sigmoid(objectness[idx])
    boxes = self.rpn_decode(deltas[idx], anchors[idx])
    x = boxes[:, 0::2].clamp(min=0, max=image_size[1])
    y = boxes[:, 1::2].clamp(min=0, max=image_size[0])
    boxes = torch.stack([x, y], 2).reshape(-1, 4)
    ws = boxes[:, 2] - boxes[:, 0]
    hs = boxes[:, 3] - boxes[:, 1]
    keep = torch.nonzero((ws >= @MIN_SIZE@) & (hs >= @MIN_SIZE@)).squeeze(1)
    boxes, scores, levels = boxes[keep], scores[keep], levels[keep]
    keep = torch.nonzero(scores >= @SCORE_THRESH@).squeeze(1)
    boxes, scores, levels = boxes[keep], scores[keep], levels[keep]
    keep = self.rpn_batched_nms(boxes, scores, levels, @NMS_THRESH@)[:@POST_NMS@]
    return boxes[keep], scores[keep]
)TS";

}  // namespace

std::string rpn_proposal_script(const RpnOptions& o, bool training) {
  const AnchorGenerator anchors(o.anchors);
  std::ostringstream s;
  // One rpn_grid call per level, with that level's cell anchors as a literal.
  s << "def rpn_anchors(self, padded_size: List[int], features: List[Tensor]) -> Tensor:\n"
    << "    assert len(features) == " << anchors.num_levels() << "\n"
    << "    levels: List[Tensor] = []\n";
  for (int64_t l = 0; l < anchors.num_levels(); ++l)
    s << "    levels.append(self.rpn_grid(" << cell_literal(anchors.cell_anchors(l))
      << ", padded_size, features[" << l << "], features[0]))\n";
  s << "    return torch.cat(levels, 0)\n";

  std::string methods = kMethods;
  const BoxCoderOptions coder;  // the RPN's box coder: weights (1, 1, 1, 1)
  replace_all(methods, "@WX@", lit(coder.weights[0]));
  replace_all(methods, "@WY@", lit(coder.weights[1]));
  replace_all(methods, "@WW@", lit(coder.weights[2]));
  replace_all(methods, "@WH@", lit(coder.weights[3]));
  replace_all(methods, "@CLIP@", lit(coder.bbox_xform_clip));
  replace_all(methods, "@PRE_NMS@",
              std::to_string(training ? o.pre_nms_top_n_train : o.pre_nms_top_n_test));
  replace_all(methods, "@POST_NMS@",
              std::to_string(training ? o.post_nms_top_n_train : o.post_nms_top_n_test));
  replace_all(methods, "@MIN_SIZE@", lit(o.min_size));
  replace_all(methods, "@SCORE_THRESH@", lit(o.score_thresh));
  replace_all(methods, "@NMS_THRESH@", lit(o.nms_thresh));
  return s.str() + methods;
}

void export_rpn_torchscript(ResNetImpl& backbone, RegionProposalNetworkImpl& rpn, const std::string& path) {
  const RpnOptions& o = rpn.options();
  TORCH_CHECK(rpn.anchor_generator.num_levels() == 1, "export_rpn_torchscript: one feature level only");
  torch::jit::Module module("__torch__.ZooRegionProposals");
  module.register_attribute("training", c10::BoolType::get(), false);
  std::ostringstream s;
  s << std::setprecision(17);
  s << "def forward(self, images: Tensor, image_sizes: Tensor) -> Tuple[Tensor, Tensor, Tensor]:\n";
  s << resnet_script(module, backbone, "backbone.", "images", "f");
  const auto param = [&](const std::string& name, const torch::Tensor& t) {
    module.register_parameter(script_attribute_name(name), t.detach().clone(), /*is_buffer=*/false);
    return "self." + script_attribute_name(name);
  };
  RPNHeadImpl& head = *rpn.head;
  s << "    t = f\n";
  for (size_t i = 0; i < head.conv->size(); ++i) {
    auto& conv = *head.conv[i]->as<torch::nn::SequentialImpl>()->ptr(0)->as<torch::nn::Conv2dImpl>();
    const std::string p = "rpn.head.conv." + std::to_string(i) + ".0.";
    s << "    t = torch.relu(torch.conv2d(t, " << param(p + "weight", conv.weight) << ", " << param(p + "bias", conv.bias)
      << ", [1, 1], [1, 1], [1, 1], 1))\n";
  }
  s << "    logits = torch.conv2d(t, " << param("rpn.head.cls_logits.weight", head.cls_logits->weight) << ", "
    << param("rpn.head.cls_logits.bias", head.cls_logits->bias) << ", [1, 1], [0, 0], [1, 1], 1)\n";
  s << "    deltas = torch.conv2d(t, " << param("rpn.head.bbox_pred.weight", head.bbox_pred->weight) << ", "
    << param("rpn.head.bbox_pred.bias", head.bbox_pred->bias) << ", [1, 1], [0, 0], [1, 1], 1)\n";
  // Flattening as concat_box_prediction_layers (location-major, then anchor), then the
  // post-processing of io/formats/rpn_script.h, one image at a time.
  s << R"(    n = logits.size(0)
    a = logits.size(1)
    h = logits.size(2)
    w = logits.size(3)
    obj = logits.permute(0, 2, 3, 1).reshape(n, -1)
    d = deltas.view(n, a, 4, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, 4)
    anchors = self.rpn_anchors([images.size(2), images.size(3)], [logits])
    levels = [obj.size(1)]
)";
  s << "    post = " << o.post_nms_top_n_test << "\n";
  s << R"(    out_boxes = torch.zeros([n, post, 4], dtype=obj.dtype, device=obj.device)
    out_scores = torch.zeros([n, post], dtype=obj.dtype, device=obj.device)
    counts = torch.zeros([n], device=obj.device).long()
    for i in range(n):
        result = self.rpn_proposals(obj[i], d[i], anchors, [int(image_sizes[i, 0]), int(image_sizes[i, 1])], levels)
        m = result[0].size(0)
        out_boxes[i, :m] = result[0]
        out_scores[i, :m] = result[1]
        counts[i] = m
    return out_boxes, out_scores, counts
)";
  module.define(rpn_proposal_script(o, /*training=*/false) + "\n" + s.str());
  save_script_module(module, path);
}

}  // namespace zoo
