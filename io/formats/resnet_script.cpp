#include "io/formats/resnet_script.h"

#include <iomanip>
#include <sstream>

namespace zoo {

std::string resnet_script(torch::jit::Module& module, ResNetImpl& net, const std::string& prefix,
                          const std::string& in, const std::string& out) {
  const auto self = [&](const std::string& name) { return "self." + script_attribute_name(prefix + name); };
  for (const auto& p : net.named_parameters())
    module.register_parameter(script_attribute_name(prefix + p.key()), p.value().detach().clone(), /*is_buffer=*/false);
  for (const auto& b : net.named_buffers())
    if (b.key().find("num_batches_tracked") == std::string::npos)
      module.register_buffer(script_attribute_name(prefix + b.key()), b.value().detach().clone());
  const auto params = net.named_parameters();
  const auto conv = [&](const std::string& x, const std::string& name, int64_t stride) {
    const int64_t pad = params[name + ".weight"].size(2) / 2;
    std::ostringstream c;
    c << "torch.conv2d(" << x << ", " << self(name + ".weight") << ", None, [" << stride << ", " << stride << "], ["
      << pad << ", " << pad << "], [1, 1], 1)";
    return c.str();
  };
  const auto bn = [&](const std::string& x, const std::string& name, double eps) {
    std::ostringstream c;
    c << std::setprecision(17) << "torch.batch_norm(" << x << ", " << self(name + ".weight") << ", "
      << self(name + ".bias") << ", " << self(name + ".running_mean") << ", " << self(name + ".running_var")
      << ", False, 0.0, " << eps << ", False)";
    return c.str();
  };
  std::ostringstream s;
  s << "    " << out << " = torch.relu(" << bn(conv(in, "conv1", 2), "bn1", net.bn1->options.eps()) << ")\n";
  s << "    " << out << " = torch.max_pool2d(" << out << ", [3, 3], [2, 2], [1, 1], [1, 1], False)\n";
  for (size_t stage = 0; stage < net.layers.size(); ++stage) {
    const auto& layer = net.layers[stage];
    for (size_t i = 0; i < layer->size(); ++i) {
      auto& block = *layer->ptr(i)->as<BasicBlockImpl>();
      const std::string p = "layer" + std::to_string(stage + 1) + "." + std::to_string(i) + ".";
      const int64_t stride = (i == 0 && stage > 0) ? 2 : 1;
      s << "    y = torch.relu(" << bn(conv(out, p + "conv1", stride), p + "bn1", block.bn1->options.eps()) << ")\n";
      s << "    y = " << bn(conv("y", p + "conv2", 1), p + "bn2", block.bn2->options.eps()) << "\n";
      if (block.downsample) {
        const double eps = block.downsample->ptr(1)->as<torch::nn::BatchNorm2dImpl>()->options.eps();
        s << "    " << out << " = torch.relu(y + "
          << bn(conv(out, p + "downsample.0", stride), p + "downsample.1", eps) << ")\n";
      } else {
        s << "    " << out << " = torch.relu(y + " << out << ")\n";
      }
    }
  }
  return s.str();
}

}  // namespace zoo
