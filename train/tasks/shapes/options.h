#pragma once
// Options of task "shapes" (the worked example of docs/adding_a_task.md), declared once in
// ShapesOptions::table(): the member's initialiser is the default, the table gives the key, the
// check and the line `zoo tasks shapes` prints.
#include <cstdint>
#include <vector>

#include "train/options.h"

namespace zoo {

struct ShapesOptions {
  int64_t width = 16;         // "model": channels of the first convolution (doubled in the second)
  int64_t image_size = 32;    // "data"
  int64_t train_size = 5000;  // "data": distinct generated training images
  int64_t val_size = 500;     // "data"
  int64_t eval_batch_size = 100;

  static const OptionTable<ShapesOptions>& table();
};

Json shapes_task_defaults();
std::vector<OptionDoc> shapes_option_docs();

}  // namespace zoo
