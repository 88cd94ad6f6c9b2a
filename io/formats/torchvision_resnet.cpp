#include "io/formats/torchvision_resnet.h"

#include <set>
#include <utility>
#include <vector>

#include "io/error.h"
#include "io/safetensors.h"

namespace zoo {

namespace {

// fc.* and layerK.* for stages beyond the backbone's last.
bool ignorable(const std::string& key, int64_t num_stages) {
  if (key.rfind("fc.", 0) == 0) return true;
  for (int64_t stage = num_stages + 1; stage <= 4; ++stage)
    if (key.rfind("layer" + std::to_string(stage) + ".", 0) == 0) return true;
  return false;
}

}  // namespace

void load_torchvision_resnet(const std::string& path, ResNetImpl& backbone) {
  const auto dict = read_weights_file(path);
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (ours, theirs)
  std::set<std::string> used;
  const auto take = [&](const std::string& name, const torch::Tensor& ours) {
    const auto it = dict.find(name);
    if (it == dict.end())
      throw UserError(path + ": missing key '" + name + "' (resnet" + std::to_string(backbone.options.depth) +
                      " weights expected; model.depth must match the checkpoint)");
    if (!it->second.sizes().equals(ours.sizes()))
      throw UserError(path + ": key '" + name + "' has shape " + c10::str(it->second.sizes()) + ", the model expects " +
                      c10::str(ours.sizes()) + " (torchvision's ResNets have model.base_width=64)");
    copies.emplace_back(ours, it->second);
    used.insert(name);
  };
  for (const auto& p : backbone.named_parameters()) take(p.key(), p.value());
  for (const auto& b : backbone.named_buffers()) take(b.key(), b.value());
  for (const auto& [key, tensor] : dict)
    if (!used.count(key) && !ignorable(key, backbone.options.num_stages))
      throw UserError(path + ": unexpected key '" + key + "' (not part of a resnet" +
                      std::to_string(backbone.options.depth) + " backbone)");
  torch::NoGradGuard no_grad;
  for (auto& [ours, theirs] : copies) ours.copy_(theirs);
}

}  // namespace zoo
