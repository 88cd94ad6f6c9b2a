#pragma once
// Options of task "heatmap" beyond the hand tasks' shared ones (train/tasks/hand/options.h),
// declared once in HeatmapOptions::table() (train/options.h).
#include <vector>

#include "losses/keypoint_loss.h"
#include "models/heatmap_keypoints.h"
#include "train/options.h"

namespace zoo {

struct HeatmapOptions {
  HeatmapKeypointsOptions model;
  KeypointLossOptions coord_loss{"l1", 1.0};  // soft_argmax: the twin's L1 on the normalised coordinates
  double js_weight = 0.0;  // weight of the DSNT Jensen-Shannon heatmap regulariser (0 = off)
  double js_sigma = 1.0;   // its Gaussian's sigma, in heatmap cells

  static const OptionTable<HeatmapOptions>& table();
};

Json heatmap_task_defaults();
std::vector<OptionDoc> heatmap_option_docs();

}  // namespace zoo
