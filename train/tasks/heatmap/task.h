#pragma once
// Task "heatmap": hand keypoints in 2D from heatmaps (models/heatmap_keypoints.h: a conv encoder,
// a transposed-conv decoder, then soft-argmax or per-axis classification), on the hand tasks'
// data, metrics (2D) and pictures (train/tasks/hand), the pictures overlaid with the predicted
// heatmaps. Losses:
//   soft_argmax  a coordinate loss (losses/keypoint_loss.h on the normalised 2D points) plus,
//                optionally, the DSNT Jensen-Shannon regulariser pulling each map towards a
//                Gaussian at the target;
//   per_axis     cross-entropy on the x and y bins of the target.
// Options: train/tasks/heatmap/options.h; export: export.h.
#include <memory>
#include <string>

#include "train/config.h"
#include "train/registry.h"
#include "train/task.h"
#include "train/tasks/heatmap/options.h"

namespace zoo {

std::unique_ptr<Task> make_heatmap_task(const Config& cfg, const std::string& run_dir,
                                        TaskData data = TaskData::kLoad);

// The registry entry (train/tasks/list.txt).
TaskEntry heatmap_task_entry();

}  // namespace zoo
