#include "train/tasks/heatmap/export.h"

#include <cmath>
#include <filesystem>

#include "data/hand_sample.h"
#include "io/export_format.h"
#include "io/formats/heatmap_onnx.h"
#include "io/formats/heatmap_script.h"
#include "io/weight_files.h"

namespace zoo {

void write_heatmap_export(const std::string& dir, HeatmapKeypointModelImpl& model, const Json& input_meta,
                          int64_t image_size) {
  std::filesystem::create_directories(dir);
  export_heatmap_torchscript(model, dir + "/model.pt");
  export_heatmap_onnx(model, dir + "/model.onnx");
  write_weight_files(dir, module_tensors(model));
  const double scale = model.net->output_scale();
  const auto side = static_cast<int64_t>(std::lround(image_size * scale));
  const auto& o = model.options;
  write_json_file(
      dir + "/meta.json",
      {{"task", "heatmap"},
       {"format_version", kExportFormatVersion},
       {"model", "model.pt"},
       {"onnx", "model.onnx"},
       {"weights", "weights.pt"},
       {"input", input_meta},
       {"output",
        {{"returns", "(coords, heatmaps)"},
         {"coords", {{"shape", {-1, kHandJoints, 2}},
                     {"coordinates", "normalised (x, y), align_corners=False: u_px = ((x + 1) * W - 1) / 2, "
                                     "v_px = ((y + 1) * H - 1) / 2 in pixels of the input image"}}},
         {"heatmaps", {{"shape", {-1, kHandJoints, side, side}},
                       {"meaning", o.head == "soft_argmax"
                                       ? "spatial softmax of the logits times beta; coords is its expectation"
                                       : "outer product of the per-axis softmaxes; coords is their expectation"}}}}},
       {"keypoint_names", kHandJointNames},
       {"parents", kHandParent},
       {"architecture",
        {{"encoder_channels", o.net.encoder_channels},
         {"decoder_channels", o.net.decoder_channels},
         {"decoder", o.net.decoder},
         {"head", o.head},
         {"beta", model.soft_argmax->beta()}}}});
}

}  // namespace zoo
