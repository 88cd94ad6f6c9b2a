#pragma once
// Task "keypoints": hand-keypoint regressor, RGB image -> 21 joints in 3D (root-relative,
// scale-normalised; model.coord_dims = 2 regresses the normalised 2D uv instead), trained with
// a per-keypoint Euclidean loss on synthetic hands (data/hand_synth.h) or a hand data set on
// disk (manifest, FreiHAND or CSV, data/hand_formats.h).
//
// Targets and metrics (data/hand_batch.h): the model predicts xyz_n = (xyz_mm - xyz_mm[wrist]) /
// |xyz_mm[middle_mcp] - xyz_mm[wrist]|; metrics map predictions back to millimetres with the
// ground truth root and scale (xyz_to_mm), so MPJPE is root-relative and scale-normalised.
//
// Pictures: every evaluation writes DIR/plots/pck_<split>.png (3D PCK curves, or 2D for
// coord_dims 2) and DIR/plots/examples_<split>.png (the first 16 held-out images with predicted,
// coloured, and ground-truth, white, skeletons); those of the last evaluation of a run or of
// `zoo eval` remain.
#include <memory>
#include <string>

#include "train/config.h"
#include "train/task.h"

namespace zoo {

Json keypoints_task_defaults();
std::unique_ptr<Task> make_keypoints_task(const Config& cfg, const std::string& run_dir,
                                    TaskData data = TaskData::kLoad);

// Task "heatmap": the same data, metrics (2D) and pictures, with train/tasks/heatmap_model.h's
// heatmap network and soft-argmax or per-axis head instead of the regressor; pictures overlay
// the predicted heatmaps.
Json heatmap_task_defaults();
std::unique_ptr<Task> make_heatmap_task(const Config& cfg, const std::string& run_dir,
                                    TaskData data = TaskData::kLoad);

// In-plane rotation augmentation warps the image and leaves K = A·K_old rotated (K[1][0] != 0)
// while xyz stays in the old camera frame, so the 3D target would not rotate with the picture
// the network sees. This rotates each sample's camera about its optical axis instead:
// K = K'·Rz with K' upper triangular (K'[1][0] = 0, positive diagonal), then xyz' = Rz·xyz
// (keys "xyz" and "root_mm") and K = K'. The pixels and uv are unchanged and K'·xyz' = K·xyz,
// so the labels stay exact; without rotation (Rz = I) nothing changes. Batch keys as in
// data/hand_batch.h; works on any device.
void rotate_to_upright_camera(Batch& batch);

}  // namespace zoo
