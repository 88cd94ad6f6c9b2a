#include "train/tasks/rpn_export.h"

#include <torch/script.h>

#include <iomanip>
#include <sstream>

#include "train/atomic_file.h"
#include "train/resnet_script.h"

namespace zoo {

namespace {

// Greedy NMS as torchvision's CPU kernel: a stable sort by decreasing score (ties keep the
// input order, as models/detection/box_ops.h), then each kept box suppresses the later ones
// whose IoU with it exceeds the threshold.
const char* const kNmsScript = R"(
def nms(self, boxes: Tensor, scores: Tensor, threshold: float) -> Tensor:
    order = torch.sort(scores, stable=True, dim=0, descending=True)[1]
    b = boxes.index_select(0, order)
    n = b.size(0)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = torch.max(b[:, None, :2], b[None, :, :2])
    rb = torch.min(b[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0.0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    over = (inter / (area[:, None] + area[None, :] - inter)) > threshold
    suppressed = over.new_zeros([n])
    keep = over.new_zeros([n])
    for i in range(n):
        if not bool(suppressed[i]):
            keep[i] = True
            suppressed = suppressed | over[i]
    return order[keep]
)";

}  // namespace

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
  module.register_buffer("cell_anchors", rpn.anchor_generator.cell_anchors(0).clone());
  // Anchors as AnchorGenerator: integer strides padded size // feature size, location-major.
  s << R"(    n = logits.size(0)
    a = logits.size(1)
    h = logits.size(2)
    w = logits.size(3)
    obj = logits.permute(0, 2, 3, 1).reshape(n, -1)
    d = deltas.view(n, a, 4, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, 4)
    sx = torch.arange(w, device=images.device) * (images.size(3) // w)
    sy = torch.arange(h, device=images.device) * (images.size(2) // h)
    grid = torch.meshgrid([sy, sx], indexing="ij")
    gx = grid[1].reshape(-1)
    gy = grid[0].reshape(-1)
    shifts = torch.stack([gx, gy, gx, gy], 1).to(obj.dtype)
    anchors = (shifts.view(-1, 1, 4) + self.cell_anchors.to(obj.device, obj.dtype).view(1, -1, 4)).reshape(-1, 4)
    widths = anchors[:, 2] - anchors[:, 0]
    heights = anchors[:, 3] - anchors[:, 1]
    ctr_x = anchors[:, 0] + 0.5 * widths
    ctr_y = anchors[:, 1] + 0.5 * heights
)";
  const auto& wt = rpn.box_coder.options().weights;
  s << "    dx = d[:, :, 0] / " << wt[0] << "\n    dy = d[:, :, 1] / " << wt[1] << "\n";
  s << "    dw = (d[:, :, 2] / " << wt[2] << ").clamp(max=" << rpn.box_coder.options().bbox_xform_clip << ")\n";
  s << "    dh = (d[:, :, 3] / " << wt[3] << ").clamp(max=" << rpn.box_coder.options().bbox_xform_clip << ")\n";
  s << R"(    pcx = dx * widths + ctr_x
    pcy = dy * heights + ctr_y
    hw = 0.5 * (torch.exp(dw) * widths)
    hh = 0.5 * (torch.exp(dh) * heights)
    boxes = torch.stack([pcx - hw, pcy - hh, pcx + hw, pcy + hh], 2)
)";
  s << "    post = " << o.post_nms_top_n_test << "\n";
  s << "    out_boxes = torch.zeros([n, post, 4], dtype=obj.dtype, device=obj.device)\n";
  s << "    out_scores = torch.zeros([n, post], dtype=obj.dtype, device=obj.device)\n";
  s << "    counts = torch.zeros([n], device=obj.device).long()\n";
  s << "    for i in range(n):\n";
  s << "        top = torch.topk(obj[i], min(" << o.pre_nms_top_n_test << ", obj.size(1)))\n";
  s << R"(        sc = torch.sigmoid(top[0])
        b = boxes[i].index_select(0, top[1])
        height = float(image_sizes[i, 0])
        width = float(image_sizes[i, 1])
        x1 = b[:, 0].clamp(0.0, width)
        y1 = b[:, 1].clamp(0.0, height)
        x2 = b[:, 2].clamp(0.0, width)
        y2 = b[:, 3].clamp(0.0, height)
        b = torch.stack([x1, y1, x2, y2], 1)
)";
  s << "        valid = ((x2 - x1) >= " << o.min_size << ") & ((y2 - y1) >= " << o.min_size << ") & (sc >= "
    << o.score_thresh << ")\n";
  s << "        b = b[valid]\n        sc = sc[valid]\n";
  s << "        keep = self.nms(b, sc, " << o.nms_thresh << ")[:post]\n";
  s << R"(        m = keep.size(0)
        out_boxes[i, :m] = b[keep]
        out_scores[i, :m] = sc[keep]
        counts[i] = m
    return out_boxes, out_scores, counts
)";
  module.define(std::string(kNmsScript) + "\n" + s.str());
  std::ostringstream bytes;
  module.save(bytes);
  const std::string data = bytes.str();
  atomic_write(path, [&](const ByteSink& sink) { sink(data.data(), data.size()); });
}

}  // namespace zoo
