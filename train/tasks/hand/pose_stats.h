#pragma once
// Statistics of a hand training set: the mean-pose baseline of the metrics, and what places a
// root-relative 3D prediction on a bare image (export meta.json "placement").
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data/hand_batch.h"
#include "train/config.h"

namespace zoo {

// What a "typical" training hand looks like: the mean-pose baseline, and the assumptions that
// place a root-relative 3D prediction on a bare image (which has no intrinsics, root or scale).
struct PoseStats {
  torch::Tensor mean_xyz;       // [21, 3] mean normalised root-relative pose
  torch::Tensor mean_uv;        // [21, 2] mean normalised uv
  double scale_mm = 0;          // mean wrist -> middle MCP length
  double focal_per_size = 0;    // mean (fx + fy) / 2 / image side
  double extent = 0;            // mean larger side of the joints' 2D box / image side
  int64_t samples = 0;

  Json to_json() const;
  static PoseStats from_json(const Json& j);
};

// Averages of unaugmented samples (Batch keys as in data/hand_batch.h).
PoseStats pose_stats_of(const std::vector<Batch>& batches, int image_size);

}  // namespace zoo
