#include "train/tasks/rpn/export.h"

#include <torch/script.h>

#include <filesystem>
#include <iomanip>
#include <sstream>

#include "data/hand_batch.h"
#include "io/atomic_file.h"
#include "io/export_format.h"
#include "io/safetensors.h"
#include "io/torch_save.h"
#include "models/detection/rpn_script.h"
#include "train/config.h"
#include "train/resnet_script.h"

namespace zoo {

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
  // post-processing of models/detection/rpn_script.h, one image at a time.
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
  std::ostringstream bytes;
  module.save(bytes);
  const std::string data = bytes.str();
  atomic_write(path, [&](const ByteSink& sink) { sink(data.data(), data.size()); });
}

void write_rpn_export(const std::string& dir, ProposalNetworkImpl& net, const DetectionTransformOptions& transform) {
  std::filesystem::create_directories(dir);
  export_rpn_torchscript(*net.backbone, *net.rpn, dir + "/model.pt");
  std::vector<std::pair<std::string, torch::Tensor>> weights;
  for (const auto& p : net.named_parameters()) weights.emplace_back(p.key(), p.value().detach().cpu());
  for (const auto& b : net.named_buffers()) weights.emplace_back(b.key(), b.value().detach().cpu());
  write_torch_tensor_dict(dir + "/weights.pt", weights);
  write_safetensors(dir + "/weights.safetensors", weights);
  const RpnOptions& r = net.rpn->options();
  write_json_file(dir + "/meta.json",
                  {{"task", "rpn"},
                   {"format_version", kExportFormatVersion},
                   {"model", "model.pt"},
                   {"weights", "weights.pt"},
                   {"input",
                    {{"images", "[B, 3, H, W] float32 RGB, (pixel / 255 - mean) / std, ImageNet statistics, each "
                                "image resized so its short side is min_size and long side <= max_size "
                                "(bilinear), zero-padded at the bottom/right to multiples of 32"},
                     {"image_sizes", "[B, 2] int64 (height, width) of each image before padding"},
                     {"mean", {decimal(kImageNetMean[0]), decimal(kImageNetMean[1]), decimal(kImageNetMean[2])}},
                     {"std", {decimal(kImageNetStd[0]), decimal(kImageNetStd[1]), decimal(kImageNetStd[2])}},
                     {"min_size", transform.min_size},
                     {"max_size", transform.max_size},
                     {"size_divisible", transform.size_divisible}}},
                   {"output",
                    {{"returns", "(boxes [B, N, 4], scores [B, N], counts [B])"},
                     {"boxes", "proposals (x1, y1, x2, y2) in pixels of the resized image, best first; rows past "
                               "counts[b] are zero"},
                     {"scores", "objectness probabilities"}}},
                   {"post_processing",
                    {{"pre_nms_top_n", r.pre_nms_top_n_test},
                     {"post_nms_top_n", r.post_nms_top_n_test},
                     {"nms_thresh", r.nms_thresh},
                     {"min_size", r.min_size},
                     {"score_thresh", r.score_thresh}}},
                   {"anchor_sizes", r.anchors.sizes[0]},
                   {"aspect_ratios", r.anchors.aspect_ratios[0]}});
}

}  // namespace zoo
