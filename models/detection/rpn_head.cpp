#include "models/detection/rpn_head.h"

namespace zoo {

RPNHeadImpl::RPNHeadImpl(int64_t in_channels, int64_t num_anchors, int64_t conv_depth) {
  TORCH_CHECK(in_channels > 0 && num_anchors > 0 && conv_depth > 0,
              "RPNHead: need in_channels, num_anchors and conv_depth > 0, got ", in_channels, ", ",
              num_anchors, ", ", conv_depth);
  using torch::nn::Conv2dOptions;
  // Each block is a Sequential(conv, relu) like torchvision's Conv2dNormActivation without a
  // norm layer, which is what puts the weights at "conv.<block>.0.weight".
  conv = register_module("conv", torch::nn::ModuleList());
  for (int64_t i = 0; i < conv_depth; ++i)
    conv->push_back(torch::nn::Sequential(
        torch::nn::Conv2d(Conv2dOptions(in_channels, in_channels, 3).padding(1)),
        torch::nn::ReLU()));
  cls_logits =
      register_module("cls_logits", torch::nn::Conv2d(Conv2dOptions(in_channels, num_anchors, 1)));
  bbox_pred = register_module("bbox_pred",
                              torch::nn::Conv2d(Conv2dOptions(in_channels, 4 * num_anchors, 1)));

  torch::NoGradGuard no_grad;
  for (const auto& m : modules(/*include_self=*/false))
    if (auto* c = m->as<torch::nn::Conv2dImpl>()) {
      torch::nn::init::normal_(c->weight, 0.0, 0.01);
      torch::nn::init::zeros_(c->bias);
    }
}

std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> RPNHeadImpl::forward(
    const std::vector<torch::Tensor>& features) {
  std::vector<torch::Tensor> logits, deltas;
  for (const auto& f : features) {
    auto t = f;
    for (const auto& block : *conv) t = block->as<torch::nn::SequentialImpl>()->forward(t);
    logits.push_back(cls_logits(t));
    deltas.push_back(bbox_pred(t));
  }
  return {logits, deltas};
}

}  // namespace zoo
