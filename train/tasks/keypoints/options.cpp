#include "train/tasks/keypoints/options.h"

#include "train/tasks/hand/options.h"
#include "train/trainer.h"

namespace zoo {

const OptionTable<KeypointsOptions>& KeypointsOptions::table() {
  using K = KeypointsOptions;
  using R = ResNetOptions;
  static const auto t =
      OptionTable<K>()
          .add("model.depth", &K::backbone, &R::depth, "ResNet depth (BasicBlock)",
               Check<int64_t>{[](const int64_t& d) { return d == 18 || d == 34; }, "must be 18 or 34"})
          .add("model.base_width", &K::backbone, &R::base_width,
               "channels of the stem and first stage, doubled per stage (64 = torchvision)",
               in_range<int64_t>(1, 1024, true))
          .add("model.num_stages", &K::backbone, &R::num_stages, "ResNet stages kept (stride 4, 8, 16, 32)",
               in_range<int64_t>(1, 4, true))
          .add("model.coord_dims", &K::coord_dims, "3: root-relative xyz; 2: image uv",
               Check<int64_t>{[](const int64_t& d) { return d == 2 || d == 3; }, "must be 2 or 3"})
          .add("model.zero_init_residual", &K::backbone, &R::zero_init_residual,
               "torchvision's option: the last BatchNorm gamma of each block starts at 0")
          .add("loss.kind", &K::loss, &KeypointLossOptions::kind,
               "per-keypoint euclidean (the mission's), l1, mse or smooth_l1",
               one_of({"euclidean", "l1", "mse", "smooth_l1"}))
          .add("loss.smooth_l1_beta", &K::loss, &KeypointLossOptions::smooth_l1_beta, "smooth_l1's beta",
               at_least(0.0))
          .add("init.torchvision_weights", &K::torchvision_weights,
               "a torchvision resnet18/34 state dict (.pth or .safetensors) for the backbone (model.base_width 64)");
  return t;
}

Json keypoints_task_defaults() {
  Json j = hand_task_defaults();
  j.update(KeypointsOptions::table().to_json(), /*merge_objects=*/true);
  j["task"] = "keypoints";
  return j;
}

std::vector<OptionDoc> keypoints_option_docs() { return task_option_docs<KeypointsOptions, HandDataOptions>(); }

}  // namespace zoo
