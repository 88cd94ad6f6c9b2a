#include "models/resnet.h"

#include <string>

namespace zoo {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  // No bias: every conv is followed by BatchNorm, whose beta makes a bias redundant (as in TV).
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

}  // namespace

std::vector<int64_t> resnet_blocks_per_stage(int64_t depth) {
  if (depth == 18) return {2, 2, 2, 2};
  TORCH_CHECK(depth == 34, "ResNet: depth ", depth, " is not a BasicBlock ResNet (use 18 or 34)");
  return {3, 4, 6, 3};
}

BasicBlockImpl::BasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride) {
  conv1 = register_module("conv1", conv(in_channels, out_channels, 3, stride, 1));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(out_channels));
  conv2 = register_module("conv2", conv(out_channels, out_channels, 3, 1, 1));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(out_channels));
  if (stride != 1 || in_channels != out_channels) {
    downsample = register_module(
        "downsample", torch::nn::Sequential(conv(in_channels, out_channels, 1, stride, 0),
                                            torch::nn::BatchNorm2d(out_channels)));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  // In-place ReLU and residual add, as torchvision: BN's backward needs its input, not its
  // output, and add_ needs neither operand, so overwriting these fresh outputs is safe.
  auto out = bn1(conv1(x)).relu_();
  out = bn2(conv2(out));
  out.add_(downsample ? downsample->forward(x) : x);
  return out.relu_();
}

ResNetImpl::ResNetImpl(const ResNetOptions& opts) : options(opts) {
  const auto blocks = resnet_blocks_per_stage(options.depth);
  TORCH_CHECK(options.num_stages >= 1 && options.num_stages <= 4, "ResNet: num_stages ",
              options.num_stages, " is not in 1..4");
  TORCH_CHECK(options.base_width > 0 && options.in_channels > 0, "ResNet: bad widths");
  conv1 = register_module("conv1", conv(options.in_channels, options.base_width, 7, 2, 3));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(options.base_width));
  maxpool = register_module("maxpool",
                            torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
  int64_t in = options.base_width;
  for (int64_t s = 0; s < options.num_stages; ++s) {
    const int64_t out = stage_channels(s);
    torch::nn::Sequential layer;
    for (int64_t b = 0; b < blocks[static_cast<size_t>(s)]; ++b) {
      // Only the first block of a stage changes resolution (stride 2 from layer2 on) and width.
      layer->push_back(BasicBlock(b == 0 ? in : out, out, (b == 0 && s > 0) ? 2 : 1));
    }
    layers.push_back(register_module("layer" + std::to_string(s + 1), layer));
    in = out;
  }
  init_resnet_weights(*this, options.zero_init_residual);
}

int64_t ResNetImpl::stage_channels(int64_t stage) const {
  TORCH_CHECK(stage >= 0 && stage < options.num_stages, "ResNet: no stage ", stage);
  return options.base_width << stage;
}

int64_t ResNetImpl::stage_stride(int64_t stage) const {
  TORCH_CHECK(stage >= 0 && stage < options.num_stages, "ResNet: no stage ", stage);
  return int64_t{4} << stage;
}

torch::Tensor ResNetImpl::stem(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.in_channels, "ResNet: expected [B, ",
              options.in_channels, ", H, W] input, got ", x.sizes());
  return maxpool(bn1(conv1(x)).relu_());
}

torch::Tensor ResNetImpl::forward_features(const torch::Tensor& x) {
  auto h = stem(x);
  for (auto& layer : layers) h = layer->forward(h);
  return h;
}

std::vector<torch::Tensor> ResNetImpl::forward_stages(const torch::Tensor& x) {
  std::vector<torch::Tensor> outs;
  outs.reserve(layers.size());
  auto h = stem(x);
  for (auto& layer : layers) {
    h = layer->forward(h);
    // Safe to hand out: the next stage only reads its input (add_ writes to the block's own
    // fresh tensor), so these stay valid.
    outs.push_back(h);
  }
  return outs;
}

void init_resnet_weights(torch::nn::Module& module, bool zero_init_residual) {
  torch::NoGradGuard no_grad;
  // apply() visits the module itself by reference: modules(include_self) would need a shared_ptr,
  // which a module under construction does not have yet.
  module.apply([](torch::nn::Module& m) {
    if (auto* c = dynamic_cast<torch::nn::Conv2dImpl*>(&m)) {
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (c->bias.defined()) c->bias.zero_();
    } else if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(&m)) {
      bn->weight.fill_(1.0);
      bn->bias.zero_();
    }
  });
  // After the loop above, which would otherwise reset these gammas to 1. With gamma 0 each block
  // starts as the identity, which TV reports helps large-batch training a little.
  if (zero_init_residual) {
    module.apply([](torch::nn::Module& m) {
      if (auto* block = dynamic_cast<BasicBlockImpl*>(&m)) block->bn2->weight.zero_();
    });
  }
}

}  // namespace zoo
