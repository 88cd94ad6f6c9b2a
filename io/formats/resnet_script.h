#pragma once
// TorchScript for a ResNet backbone without a Python resolver (exports of the keypoints and rpn
// tasks): the parameters and running statistics become attributes of a torch::jit::Module, and
// the forward is written with ATen ops, BatchNorm in eval mode.
#include <torch/script.h>

#include <string>

#include "io/formats/torchscript.h"
#include "models/resnet.h"

namespace zoo {

// Registers every parameter and buffer of `net` on `module` (named prefix + parameter name,
// through script_attribute_name; num_batches_tracked is skipped) and returns the statements,
// indented by four spaces, that compute the last stage's features of the tensor variable `in`
// into the variable `out` (they may also assign `out` and `y`).
std::string resnet_script(torch::jit::Module& module, ResNetImpl& net, const std::string& prefix,
                          const std::string& in, const std::string& out);

}  // namespace zoo
