#pragma once
// How every zoo export writes TorchScript, without Python: a torch::jit::Module whose attributes
// are the model's tensors and whose methods are TorchScript source written with ATen ops and
// compiled by Module::define; eval semantics (BatchNorm running statistics, no dropout). The
// writers of this folder: bert_script.h, resnet_script.h, keypoint_script.h, heatmap_script.h,
// rpn_script.h.
#include <torch/script.h>

#include <string>

namespace zoo {

// The attribute name of a parameter: dots -> underscores ("layer1.0.conv1.weight" ->
// "layer1_0_conv1_weight").
std::string script_attribute_name(std::string name);
// Saves the module to path atomically (temporary file, then rename).
void save_script_module(torch::jit::Module& module, const std::string& path);

}  // namespace zoo
