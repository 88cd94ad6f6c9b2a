#include "train/registry.h"

#include "train/tasks/keypoints_task.h"
#include "train/tasks/mlm_task.h"
#include "train/tasks/rpn_task.h"
#include "train/tasks/sts_task.h"

namespace zoo {

const std::vector<TaskEntry>& task_registry() {
  static const std::vector<TaskEntry> entries = {
      {"mlm", "mini-BERT masked language model (WordPiece, 15% masking, tied decoder)",
       mlm_task_defaults, make_mlm_task},
      {"sts", "sentence-pair similarity 0-5: BERT cross-/bi-encoder, regression or distribution head",
       sts_task_defaults, make_sts_task},
      {"keypoints", "hand keypoints: ResNet regressor, RGB image -> 21 joints in 3D (synthetic or real hands)",
       keypoints_task_defaults, make_keypoints_task},
      {"heatmap", "hand keypoints in 2D: conv encoder + transposed-conv decoder -> heatmaps -> soft-argmax",
       heatmap_task_defaults, make_heatmap_task},
      {"rpn", "Faster R-CNN region proposal network: anchors, matching, 256-anchor sampling, NMS proposals",
       rpn_task_defaults, make_rpn_task},
  };
  return entries;
}

const TaskEntry& find_task(const std::string& name) {
  std::string known;
  for (const auto& e : task_registry()) {
    if (e.name == name) return e;
    known += (known.empty() ? "" : ", ") + e.name;
  }
  throw UserError("unknown task '" + name + "' (known: " + known + ")");
}

}  // namespace zoo
