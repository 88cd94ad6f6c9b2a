#include "train/tasks/rpn/export.h"

#include <filesystem>

#include "data/hand_batch.h"
#include "io/export_format.h"
#include "io/formats/rpn_onnx.h"
#include "io/formats/rpn_script.h"
#include "io/weight_files.h"
#include "train/config.h"

namespace zoo {

void write_rpn_export(const std::string& dir, ProposalNetworkImpl& net, const DetectionTransformOptions& transform) {
  std::filesystem::create_directories(dir);
  export_rpn_torchscript(*net.backbone, *net.rpn, dir + "/model.pt");
  export_rpn_onnx(*net.backbone, *net.rpn, dir + "/model.onnx");
  write_weight_files(dir, module_tensors(net));
  const RpnOptions& r = net.rpn->options();
  write_json_file(dir + "/meta.json",
                  {{"task", "rpn"},
                   {"format_version", kExportFormatVersion},
                   {"model", "model.pt"},
                   {"onnx", "model.onnx"},
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
