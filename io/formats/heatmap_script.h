#pragma once
// TorchScript of the heatmap keypoint model (io/formats/torchscript.h): forward(images
// [B, 3, S, S]) -> (coords [B, K, 2], heatmaps [B, K, h, w]), eval-mode BatchNorm.
#include <string>

#include "models/heatmap_keypoints.h"

namespace zoo {

// Writes path atomically.
void export_heatmap_torchscript(HeatmapKeypointModelImpl& model, const std::string& path);

}  // namespace zoo
