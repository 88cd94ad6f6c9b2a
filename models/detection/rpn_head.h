#pragma once
// The RPN's per-location predictor, torchvision 0.14's RPNHead
// (torchvision/models/detection/rpn.py; spec §5.2): on every feature level, conv_depth x
// (3x3 conv C -> C with bias + ReLU), then a 1x1 conv to A objectness logits (one sigmoid logit
// per anchor) and a 1x1 conv to 4A box deltas (channel 4a + c, c = dx, dy, dw, dh). All conv
// weights N(0, 0.01), biases 0. Parameter names are torchvision's (conv.0.0.weight,
// cls_logits.bias, bbox_pred.weight, ...), so a torchvision state dict loads by name.
#include <torch/torch.h>

#include <utility>
#include <vector>

namespace zoo {

class RPNHeadImpl : public torch::nn::Module {
 public:
  RPNHeadImpl(int64_t in_channels, int64_t num_anchors, int64_t conv_depth = 1);

  // Per level l: features [N, C, H_l, W_l] -> (logits [N, A, H_l, W_l], deltas [N, 4A, H_l, W_l]).
  std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> forward(
      const std::vector<torch::Tensor>& features);

  torch::nn::ModuleList conv{nullptr};  // of Sequential(Conv2d 3x3, ReLU)
  torch::nn::Conv2d cls_logits{nullptr};
  torch::nn::Conv2d bbox_pred{nullptr};
};
TORCH_MODULE(RPNHead);

}  // namespace zoo
