#include "io/weight_files.h"

#include "io/safetensors.h"
#include "io/torch_save.h"

namespace zoo {

NamedTensors module_tensors(const torch::nn::Module& module, bool with_buffers) {
  NamedTensors out;
  for (const auto& p : module.named_parameters()) out.emplace_back(p.key(), p.value().detach().cpu());
  if (with_buffers)
    for (const auto& b : module.named_buffers()) out.emplace_back(b.key(), b.value().detach().cpu());
  return out;
}

void write_weight_files(const std::string& dir, const NamedTensors& weights) {
  write_torch_tensor_dict(dir + "/weights.pt", weights);
  write_safetensors(dir + "/weights.safetensors", weights);
}

}  // namespace zoo
