#pragma once
// ONNX of the heatmap keypoint model (io/formats/onnx_graph.h), node for node
// export_heatmap_torchscript: images [batch, 3, height, width] -> (coords [batch, K, 2],
// heatmaps [batch, K, h, w]), eval-mode BatchNorm.
#include <string>

#include "models/heatmap_keypoints.h"

namespace zoo {

// Batch and image size are dynamic. Writes path atomically.
void export_heatmap_onnx(HeatmapKeypointModelImpl& model, const std::string& path);

}  // namespace zoo
