#pragma once
// Task "keypoints": hand-keypoint regressor, RGB image -> 21 joints in 3D (root-relative,
// scale-normalised; model.coord_dims = 2 regresses the normalised 2D uv instead), a ResNet with a
// linear head (models/keypoint_regressor.h) trained with a per-keypoint Euclidean loss, on the
// hand tasks' data, metrics and pictures (train/tasks/hand). Options:
// train/tasks/keypoints/options.h; export: export.h.
#include <memory>
#include <string>

#include "train/config.h"
#include "train/registry.h"
#include "train/task.h"
#include "train/tasks/keypoints/options.h"

namespace zoo {

std::unique_ptr<Task> make_keypoints_task(const Config& cfg, const std::string& run_dir,
                                          TaskData data = TaskData::kLoad);

// The registry entry (train/tasks/list.txt).
TaskEntry keypoints_task_entry();

}  // namespace zoo
