#pragma once
// The keypoint regressor in torchvision's names and as TorchScript (io/formats/torchscript.h).
#include <string>

#include "io/weight_files.h"
#include "models/keypoint_regressor.h"

namespace zoo {

// (torchvision name, tensor): the parameters and buffers without "backbone.", detached, on the
// CPU; strict-loadable into torchvision's resnet18/34 at base_width 64 and 4 stages.
NamedTensors keypoint_regressor_torchvision_state(KeypointRegressorImpl& model);
// forward(images [B, 3, S, S]) -> [B, num_keypoints, coord_dims]: attributes named as torchvision's
// parameters with dots -> underscores (io/formats/resnet_script.h). Writes path atomically.
void export_keypoints_torchscript(KeypointRegressorImpl& model, const std::string& path);

}  // namespace zoo
