#include "io/formats/resnet_onnx.h"

namespace zoo {

std::string onnx_conv(OnnxGraph& g, const std::string& x, const std::string& name, const torch::Tensor& weight,
                      const torch::Tensor& bias, int64_t stride, int64_t pad) {
  std::vector<std::string> inputs = {x, g.initializer(name + ".weight", weight)};
  if (bias.defined()) inputs.push_back(g.initializer(name + ".bias", bias));
  return g.node("Conv", inputs,
                {{"kernel_shape", std::vector<int64_t>{weight.size(2), weight.size(3)}},
                 {"strides", std::vector<int64_t>{stride, stride}},
                 {"pads", std::vector<int64_t>{pad, pad, pad, pad}}});
}

std::string onnx_batch_norm(OnnxGraph& g, const std::string& x, const std::string& name,
                            torch::nn::BatchNorm2dImpl& bn) {
  return g.node("BatchNormalization",
                {x, g.initializer(name + ".weight", bn.weight), g.initializer(name + ".bias", bn.bias),
                 g.initializer(name + ".running_mean", bn.running_mean),
                 g.initializer(name + ".running_var", bn.running_var)},
                {{"epsilon", static_cast<float>(bn.options.eps())}});
}

std::string resnet_onnx(OnnxGraph& g, ResNetImpl& net, const std::string& prefix, const std::string& in) {
  // Convolutions are "same" (padding = kernel / 2), as resnet_script reads them from the weight.
  const auto conv_bn = [&](const std::string& x, const std::string& conv, torch::nn::Conv2dImpl& c,
                           const std::string& bn, torch::nn::BatchNorm2dImpl& b, int64_t stride) {
    return onnx_batch_norm(g, onnx_conv(g, x, prefix + conv, c.weight, {}, stride, c.weight.size(2) / 2), prefix + bn, b);
  };
  std::string out = g.node("Relu", {conv_bn(in, "conv1", *net.conv1, "bn1", *net.bn1, 2)});
  out = g.node("MaxPool", {out},
               {{"kernel_shape", std::vector<int64_t>{3, 3}},
                {"strides", std::vector<int64_t>{2, 2}},
                {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  for (size_t stage = 0; stage < net.layers.size(); ++stage) {
    const auto& layer = net.layers[stage];
    for (size_t i = 0; i < layer->size(); ++i) {
      auto& block = *layer->ptr(i)->as<BasicBlockImpl>();
      const std::string p = "layer" + std::to_string(stage + 1) + "." + std::to_string(i) + ".";
      const int64_t stride = (i == 0 && stage > 0) ? 2 : 1;
      std::string y = g.node("Relu", {conv_bn(out, p + "conv1", *block.conv1, p + "bn1", *block.bn1, stride)});
      y = conv_bn(y, p + "conv2", *block.conv2, p + "bn2", *block.bn2, 1);
      const std::string shortcut =
          block.downsample ? conv_bn(out, p + "downsample.0", *block.downsample->ptr(0)->as<torch::nn::Conv2dImpl>(),
                                     p + "downsample.1", *block.downsample->ptr(1)->as<torch::nn::BatchNorm2dImpl>(), stride)
                           : out;
      out = g.node("Relu", {g.node("Add", {y, shortcut})});
    }
  }
  return out;
}

}  // namespace zoo
