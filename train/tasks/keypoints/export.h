#pragma once
// The export of a keypoints run (README "Run directory"): model.pt (TorchScript written without
// Python), weights.pt and weights.safetensors in torchvision's names (strict-loadable into
// torchvision's resnet18/34 at base_width 64 and 4 stages), meta.json with the output's meaning,
// the pose statistics and how zoo::infer::HandPose places a pose on a bare image.
#include <string>

#include "models/keypoint_regressor.h"
#include "train/config.h"
#include "train/tasks/hand/pose_stats.h"

namespace zoo {

// `model` must be in eval mode; input_meta: meta.json's "input" (HandTask::input_meta).
void write_keypoints_export(const std::string& dir, KeypointRegressorImpl& model, const PoseStats& stats,
                            const Json& input_meta);

}  // namespace zoo
