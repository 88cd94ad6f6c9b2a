#pragma once
// Task "rpn": Faster R-CNN's region proposal network (models/detection/rpn.h, torchvision 0.14
// semantics) on a ResNet backbone cut after layer3 (stride 16), trained on generated shapes
// (data/detection_synth.h) or a detection data set on disk (COCO JSON, VOC XML, YOLO, CSV;
// data/detection_formats.h), images resized and padded as torchvision's
// GeneralizedRCNNTransform does (data/detection_batch.h).
//
// Evaluation: proposal recall at IoU 0.5 and 0.7 for the top 100 / 300 / 1000 proposals and
// average recall (IoU 0.5:0.95) at 100, next to two baselines on the same images: the same
// number of anchors taken at random, and the anchors ranked by the untrained network (the run's
// initial weights). Every evaluation draws DIR/plots/proposals_<split>.png (top proposals in
// colour, ground truth in white). Options: train/tasks/rpn/options.h; metrics: evaluator.h;
// export: export.h.
#include <memory>
#include <string>

#include "train/config.h"
#include "train/registry.h"
#include "train/task.h"
#include "train/tasks/rpn/options.h"

namespace zoo {

std::unique_ptr<Task> make_rpn_task(const Config& cfg, const std::string& run_dir,
                                    TaskData data = TaskData::kLoad);

// The registry entry (train/tasks/list.txt).
TaskEntry rpn_task_entry();

}  // namespace zoo
