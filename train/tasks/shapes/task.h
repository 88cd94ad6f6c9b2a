#pragma once
// Task "shapes": the worked example of docs/adding_a_task.md. A small CNN classifies generated
// pictures of a circle, a square or a triangle (random colours, sizes and places), with
// cross-entropy; the metric is accuracy. Everything it needs is in this folder, the task list
// (train/tasks/list.txt) and its config (apps/configs/shapes_demo.json).
#include <memory>
#include <string>

#include "train/config.h"
#include "train/registry.h"
#include "train/task.h"
#include "train/tasks/shapes/options.h"

namespace zoo {

std::unique_ptr<Task> make_shapes_task(const Config& cfg, const std::string& run_dir,
                                       TaskData data = TaskData::kLoad);
// The registry entry (train/tasks/list.txt).
TaskEntry shapes_task_entry();

}  // namespace zoo
