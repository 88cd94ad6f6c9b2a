#include "models/keypoint_regressor.h"

namespace zoo {

KeypointRegressorImpl::KeypointRegressorImpl(const KeypointRegressorOptions& opts)
    : options(opts) {
  TORCH_CHECK(options.num_keypoints > 0 && (options.coord_dims == 2 || options.coord_dims == 3),
              "KeypointRegressor: need num_keypoints > 0 and coord_dims 2 or 3, got ",
              options.num_keypoints, " and ", options.coord_dims);
  backbone = register_module("backbone", ResNet(options.backbone));
  // PyTorch's default Linear init (kaiming_uniform a=sqrt(5), bias U(+-1/sqrt(C))), as TV's fc.
  fc = register_module("fc", torch::nn::Linear(backbone->out_channels(),
                                               options.num_keypoints * options.coord_dims));
}

torch::Tensor KeypointRegressorImpl::forward(const torch::Tensor& images) {
  // mean over H, W == adaptive_avg_pool2d(1) + flatten, without the [B, C, 1, 1] detour.
  const auto pooled = backbone->forward_features(images).mean({2, 3});
  return fc(pooled).view({-1, options.num_keypoints, options.coord_dims});
}

}  // namespace zoo
