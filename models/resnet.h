#pragma once
// ResNet backbone (BasicBlock: ResNet-18/34) with torchvision's module layout and parameter names
// (conv1, bn1, layer1.0.conv1, layer2.0.downsample.0, ...), so a torchvision state dict maps one
// to one. The classifier (avgpool + fc) is left to the heads that use it.
#include <torch/torch.h>

#include <vector>

namespace zoo {

struct ResNetOptions {
  int64_t depth = 18;               // 18 -> {2,2,2,2} blocks per stage, 34 -> {3,4,6,3}
  int64_t num_stages = 4;           // 1..4: keep layer1..layerN (stride 4, 8, 16, 32)
  int64_t base_width = 64;          // channels of the stem and layer1; doubled per stage (64 = TV)
  int64_t in_channels = 3;
  bool zero_init_residual = false;  // TV's option: last BN gamma of each block = 0
};

// Blocks per stage for a BasicBlock depth (18 or 34); throws for anything else.
std::vector<int64_t> resnet_blocks_per_stage(int64_t depth);

// conv3x3 -> BN -> ReLU -> conv3x3 -> BN, + identity (or 1x1 conv + BN when the shape changes),
// -> ReLU. Parameter names as torchvision's BasicBlock.
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};  // null when the identity is used as is
};
TORCH_MODULE(BasicBlock);

class ResNetImpl : public torch::nn::Module {
 public:
  explicit ResNetImpl(const ResNetOptions& options = {});
  // The last stage's feature map: [B, out_channels(), H/32, W/32] with 4 stages (128 px -> 4x4).
  torch::Tensor forward_features(const torch::Tensor& x);
  torch::Tensor forward(const torch::Tensor& x) { return forward_features(x); }
  // Outputs of layer1..layerN in order (strides 4, 8, 16, 32): element 2 is layer3, stride 16,
  // the tap a heatmap decoder or an RPN uses. Same cost as forward_features.
  std::vector<torch::Tensor> forward_stages(const torch::Tensor& x);
  int64_t stage_channels(int64_t stage) const;  // 0-based stage index
  int64_t stage_stride(int64_t stage) const;    // 4 << stage
  int64_t out_channels() const { return stage_channels(options.num_stages - 1); }

  ResNetOptions options;
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::MaxPool2d maxpool{nullptr};
  std::vector<torch::nn::Sequential> layers;  // registered as "layer1".."layerN"

 private:
  torch::Tensor stem(const torch::Tensor& x);
};
TORCH_MODULE(ResNet);

// torchvision's initialisation: conv weights kaiming_normal(fan_out, relu), BN gamma 1 / beta 0,
// and with zero_init_residual the second BN gamma of every BasicBlock 0. Linear layers are left
// to their (PyTorch-default) init, as torchvision does for fc.
void init_resnet_weights(torch::nn::Module& module, bool zero_init_residual);

}  // namespace zoo
