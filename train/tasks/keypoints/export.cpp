#include "train/tasks/keypoints/export.h"

#include <filesystem>

#include "data/hand_sample.h"
#include "io/export_format.h"
#include "io/formats/keypoint_onnx.h"
#include "io/formats/keypoint_script.h"

namespace zoo {

void write_keypoints_export(const std::string& dir, KeypointRegressorImpl& model, const PoseStats& stats,
                            const Json& input_meta) {
  std::filesystem::create_directories(dir);
  export_keypoints_torchscript(model, dir + "/model.pt");
  export_keypoints_onnx(model, dir + "/model.onnx");
  write_weight_files(dir, keypoint_regressor_torchvision_state(model));
  const auto& b = model.options.backbone;
  const bool tv = b.num_stages == 4 && b.base_width == 64;
  const int64_t D = model.options.coord_dims;
  Json output = {{"shape", {-1, kHandJoints, D}}, {"dtype", "float32"}};
  if (D == 3) {
    output["coordinates"] = "root-relative, scale-normalised camera-space xyz";
    output["to_mm"] =
        "xyz_mm = out * scale_mm + root_mm, with root_mm = xyz_mm[wrist] and scale_mm = |xyz_mm[middle_mcp] - "
        "xyz_mm[wrist]| (x right, y down, z forward); without them, out * typical_scale_mm is the root-relative "
        "pose of a typical training hand in mm";
  } else {
    output["coordinates"] = "normalised uv, align_corners=False: u_px = ((x + 1) * W - 1) / 2, "
                            "v_px = ((y + 1) * H - 1) / 2";
  }
  write_json_file(
      dir + "/meta.json",
      {{"task", "keypoints"},
       {"format_version", kExportFormatVersion},
       {"model", "model.pt"},
       {"onnx", "model.onnx"},
       {"weights", "weights.pt"},
       {"input", input_meta},
       {"output", output},
       {"keypoint_names", kHandJointNames},
       {"parents", kHandParent},
       {"typical_scale_mm", stats.scale_mm},
       {"typical_focal_per_image_size", stats.focal_per_size},
       // How zoo::infer::HandPose places a root-relative 3D pose on a bare image.
       {"placement", {{"scale_mm", stats.scale_mm},
                      {"focal_per_image_size", stats.focal_per_size},
                      {"extent_per_image_size", stats.extent}}},
       {"mean_training_pose", D == 3 ? stats.to_json().at("mean_pose_xyz") : stats.to_json().at("mean_pose_uv")},
       {"architecture",
        {{"backbone", "ResNet (BasicBlock), torchvision layout"},
         {"depth", b.depth},
         {"base_width", b.base_width},
         {"num_stages", b.num_stages},
         {"head", "global average pool -> Linear(C, 21 * coord_dims)"},
         {"coord_dims", D},
         {"torchvision", tv ? "weights.pt loads into torchvision.models.resnet" + std::to_string(b.depth) +
                                  "(num_classes=" + std::to_string(kHandJoints * D) +
                                  ") with load_state_dict(strict=True); output.view(-1, 21, " +
                                  std::to_string(D) + ")"
                            : "no torchvision equivalent (base_width != 64 or num_stages != 4); weights.pt "
                              "uses torchvision's parameter names"}}}});
}

}  // namespace zoo
