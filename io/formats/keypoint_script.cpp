#include "io/formats/keypoint_script.h"

#include <sstream>

#include "io/formats/resnet_script.h"
#include "io/formats/torchscript.h"

namespace zoo {

NamedTensors keypoint_regressor_torchvision_state(KeypointRegressorImpl& model) {
  NamedTensors out;
  const auto add = [&](const std::string& name, const torch::Tensor& t) {
    const std::string prefix = "backbone.";
    out.emplace_back(name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name, t.detach().cpu());
  };
  for (const auto& p : model.named_parameters()) add(p.key(), p.value());
  for (const auto& b : model.named_buffers()) add(b.key(), b.value());
  return out;
}

// TorchScript without a Python resolver (io/formats/resnet_script.h): attributes named as
// torchvision's parameters with dots -> underscores, and a forward written with ATen ops.
void export_keypoints_torchscript(KeypointRegressorImpl& model, const std::string& path) {
  torch::jit::Module module("__torch__.ZooKeypointRegressor");
  module.register_attribute("training", c10::BoolType::get(), false);
  std::ostringstream s;
  s << "def forward(self, x: Tensor) -> Tensor:\n";
  s << resnet_script(module, *model.backbone, "", "x", "x");
  module.register_parameter("fc_weight", model.fc->weight.detach().clone(), /*is_buffer=*/false);
  module.register_parameter("fc_bias", model.fc->bias.detach().clone(), /*is_buffer=*/false);
  s << "    x = torch.linear(x.mean([2, 3]), self.fc_weight, self.fc_bias)\n";
  s << "    return x.reshape([-1, " << model.options.num_keypoints << ", " << model.options.coord_dims << "])\n";
  module.define(s.str());
  save_script_module(module, path);
}

}  // namespace zoo
