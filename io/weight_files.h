#pragma once
// The two weight files of every export, written from one list: weights.pt (Python's torch.save
// format) and weights.safetensors.
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace zoo {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// The module's parameters, then (with_buffers) its buffers, detached and on the CPU, named as
// named_parameters()/named_buffers() name them.
NamedTensors module_tensors(const torch::nn::Module& module, bool with_buffers = true);
// dir/weights.pt and dir/weights.safetensors, each written atomically.
void write_weight_files(const std::string& dir, const NamedTensors& weights);

}  // namespace zoo
