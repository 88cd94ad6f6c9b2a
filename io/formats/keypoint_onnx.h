#pragma once
// ONNX of the keypoint regressor (io/formats/onnx_graph.h), node for node
// export_keypoints_torchscript: images [batch, 3, height, width] float32 -> [batch, K, coord_dims].
#include <string>

#include "models/keypoint_regressor.h"

namespace zoo {

// Batch and image size are dynamic; initializers carry torchvision's parameter names. Writes
// path atomically.
void export_keypoints_onnx(KeypointRegressorImpl& model, const std::string& path);

}  // namespace zoo
