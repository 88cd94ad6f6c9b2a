#pragma once
// Options of task "keypoints" beyond the hand tasks' shared ones (train/tasks/hand/options.h),
// declared once in KeypointsOptions::table() (train/options.h).
#include <cstdint>
#include <string>
#include <vector>

#include "losses/keypoint_loss.h"
#include "models/resnet.h"
#include "train/options.h"

namespace zoo {

struct KeypointsOptions {
  ResNetOptions backbone;  // "model"
  int64_t coord_dims = 3;  // "model": 3 root-relative xyz, 2 normalised uv
  KeypointLossOptions loss;
  std::string torchvision_weights;  // "init"

  static const OptionTable<KeypointsOptions>& table();
};

Json keypoints_task_defaults();
std::vector<OptionDoc> keypoints_option_docs();

}  // namespace zoo
