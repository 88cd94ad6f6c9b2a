#pragma once
// Options of task "rpn", declared once in RpnTaskOptions::table() (train/options.h).
#include <cstdint>
#include <string>
#include <vector>

#include "models/detection/rpn.h"
#include "train/options.h"

namespace zoo {

struct RpnTaskOptions {
  // "model": the backbone (a ResNet cut after layer3) and the RPN
  int64_t depth = 18;
  int64_t base_width = 64;  // 64 = torchvision's ResNet-18 cut after layer3 (256 channels)
  std::vector<double> anchor_sizes = RpnOptions{}.anchors.sizes[0];
  std::vector<double> aspect_ratios = RpnOptions{}.anchors.aspect_ratios[0];
  RpnOptions rpn;  // its anchors are the two lists above
  // "data"
  std::string train_file, val_file;  // empty: generated shapes
  std::string format = "auto";
  int64_t val_from_index = -1;
  std::string bad_boxes = "drop";
  int64_t max_boxes_per_image = 1000;
  int min_size = 320;  // torchvision's resize: short side
  int max_size = 533;  //                        long side at most
  double hflip = 0.5;
  int64_t synthetic_train_size = 4000;
  int64_t synthetic_val_size = 64;
  int synthetic_image_size = 256;
  uint64_t synthetic_seed = 0;
  // "eval"
  int64_t eval_batch_size = 4;
  bool pictures = true;
  bool untrained_baseline = true;
  // "init"
  std::string torchvision_weights;

  static const OptionTable<RpnTaskOptions>& table();
};

Json rpn_task_defaults();
std::vector<OptionDoc> rpn_option_docs();

}  // namespace zoo
