#pragma once
// A ResNet backbone as ONNX nodes (io/formats/onnx_graph.h), node for node resnet_script():
// Conv (no bias), BatchNormalization with the running statistics (eval), Relu, MaxPool.
#include <string>

#include "io/formats/onnx_graph.h"
#include "models/resnet.h"

namespace zoo {

// Adds the backbone's initializers (named prefix + parameter name) and nodes to `g`; returns the
// last stage's features of the value `in` [B, 3, H, W].
std::string resnet_onnx(OnnxGraph& g, ResNetImpl& net, const std::string& prefix, const std::string& in);

// torch.conv2d with square stride and padding (and an optional bias) as an ONNX Conv.
std::string onnx_conv(OnnxGraph& g, const std::string& x, const std::string& name, const torch::Tensor& weight,
                      const torch::Tensor& bias, int64_t stride, int64_t pad);
// torch.batch_norm in eval mode: the running statistics.
std::string onnx_batch_norm(OnnxGraph& g, const std::string& x, const std::string& name,
                            torch::nn::BatchNorm2dImpl& bn);

}  // namespace zoo
