#pragma once
// The export of a heatmap run (README "Run directory"): model.pt (TorchScript written without
// Python: images -> (coords, heatmaps)), weights.pt and weights.safetensors (parameters and
// BatchNorm statistics), meta.json.
#include <cstdint>
#include <string>

#include "models/heatmap_keypoints.h"
#include "train/config.h"

namespace zoo {

// `model` must be in eval mode; input_meta: meta.json's "input" (HandTask::input_meta).
void write_heatmap_export(const std::string& dir, HeatmapKeypointModelImpl& model, const Json& input_meta,
                          int64_t image_size);

}  // namespace zoo
