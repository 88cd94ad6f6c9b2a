#pragma once
// Python's torch.save format for a dict of tensors (a state dict, e.g. an HF pytorch_model.bin
// or a torchvision .pth), read and written without Python.
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace zoo {

// Reads a file written by Python's torch.save (zip format, the default since PyTorch 1.6) that
// holds a dict of tensors. Tensors that shared storage in Python share it here. Needed because
// LibTorch's torch::pickle_load turns the OrderedDict of a state_dict() into None and rejects
// one-entry dicts. Errors are UserErrors naming the file.
std::map<std::string, torch::Tensor> read_torch_tensor_dict(const std::string& path);
// Writes (name, tensor) entries as Python's torch.save writes a dict of tensors (CPU copies;
// tensors with the same data share one storage), atomically. Unlike torch::pickle_save's output,
// Python reads it with torch.load(weights_only=True), as transformers does.
void write_torch_tensor_dict(const std::string& path,
                             const std::vector<std::pair<std::string, torch::Tensor>>& entries);

}  // namespace zoo
