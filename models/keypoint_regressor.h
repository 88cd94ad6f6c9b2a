#pragma once
// Direct keypoint regression: ResNet features -> global average pool -> Linear(C, K*D), reshaped
// to [B, K, D]. With the default options it is torchvision's resnet18(num_classes=63) with the
// output viewed as 21 x 3 (the Python twin in bench/peers/bench_keypoint_resnet.py); the state
// dict maps with the "backbone." prefix removed.
#include <torch/torch.h>

#include "models/resnet.h"

namespace zoo {

struct KeypointRegressorOptions {
  ResNetOptions backbone;
  int64_t num_keypoints = 21;  // FreiHAND / MANO hand joints
  int64_t coord_dims = 3;      // 3 = camera-space xyz, 2 = image uv
};

class KeypointRegressorImpl : public torch::nn::Module {
 public:
  explicit KeypointRegressorImpl(const KeypointRegressorOptions& options = {});
  // images [B, C, H, W] -> keypoints [B, K, D]. Any H, W the backbone accepts (pooling is global).
  torch::Tensor forward(const torch::Tensor& images);

  KeypointRegressorOptions options;
  ResNet backbone{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(KeypointRegressor);

}  // namespace zoo
