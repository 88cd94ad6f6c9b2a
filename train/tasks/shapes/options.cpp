#include "train/tasks/shapes/options.h"

#include "train/trainer.h"

namespace zoo {

const OptionTable<ShapesOptions>& ShapesOptions::table() {
  using S = ShapesOptions;
  static const auto t =
      OptionTable<S>()
          .add("model.width", &S::width, "channels of the first convolution (doubled in the second)",
               in_range<int64_t>(1, 256, true))
          .add("data.image_size", &S::image_size, "side of the generated images (a multiple of 4)",
               Check<int64_t>{[](const int64_t& s) { return s >= 16 && s <= 256 && s % 4 == 0; },
                              "must be a multiple of 4 in [16, 256]"})
          .add("data.train_size", &S::train_size, "distinct generated training images", greater_than<int64_t>(0))
          .add("data.val_size", &S::val_size, "generated validation images (never training ones)",
               greater_than<int64_t>(0))
          .add("eval.batch_size", &S::eval_batch_size, "validation images per batch", greater_than<int64_t>(0));
  return t;
}

Json shapes_task_defaults() {
  Json j = task_defaults<ShapesOptions>("shapes");
  j["train"]["batch_size"] = 64;  // a task may change the trainer's defaults too
  return j;
}

std::vector<OptionDoc> shapes_option_docs() { return task_option_docs<ShapesOptions>(); }

}  // namespace zoo
