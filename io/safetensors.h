#pragma once
// safetensors files as tensors: the Hugging Face hub's default weights format (model.safetensors),
// read memory-mapped and validated (io/safetensors_format.h), written atomically.
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace zoo {

// Every tensor of the file as a CPU tensor of its dtype (copied out of the mapping, so no
// alignment is assumed). `metadata`, when given, receives "__metadata__". A malformed file is a
// UserError naming the file; nothing is allocated beyond the file's own size.
std::map<std::string, torch::Tensor> read_safetensors(const std::string& path,
                                                      std::map<std::string, std::string>* metadata = nullptr);

// Writes the tensors (CPU, contiguous copies; a tied tensor is written once per name) with
// `metadata` (transformers expects {"format": "pt"}), atomically. Names must be unique.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// By extension: ".safetensors" files through the functions above, anything else as a torch.save
// dict of tensors (pytorch_model.bin, .pth, our weights.pt).
std::map<std::string, torch::Tensor> read_weights_file(const std::string& path);

}  // namespace zoo
