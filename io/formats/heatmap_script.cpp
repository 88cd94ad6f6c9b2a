#include "io/formats/heatmap_script.h"

#include <iomanip>
#include <sstream>

#include "io/formats/torchscript.h"

namespace zoo {

void export_heatmap_torchscript(HeatmapKeypointModelImpl& model, const std::string& path) {
  HeatmapNetImpl& net = *model.net;
  torch::jit::Module module("__torch__.ZooHeatmapKeypoints");
  module.register_attribute("training", c10::BoolType::get(), false);
  std::ostringstream s;
  s << std::setprecision(17);
  int counter = 0;
  // Each parameter / running statistic becomes an attribute p<counter>; returns "self.p<n>".
  const auto attr = [&](const torch::Tensor& t, bool buffer) {
    const std::string name = "p" + std::to_string(counter++);
    if (buffer)
      module.register_buffer(name, t.detach().clone());
    else
      module.register_parameter(name, t.detach().clone(), /*is_buffer=*/false);
    return "self." + name;
  };
  s << "def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:\n";
  for (auto* seq : {&net.encoder, &net.decoder}) {
    for (const auto& child : (*seq)->children()) {
      if (auto* conv = child->as<torch::nn::Conv2dImpl>()) {
        // HeatmapNet's convolutions are "same" (padding = kernel / 2); read from the weight because
        // the options' padding variant type differs between LibTorch 1.x and 2.x.
        const auto& o = conv->options;
        const int64_t pad = conv->weight.size(2) / 2;
        s << "    x = torch.conv2d(x, " << attr(conv->weight, false) << ", None, [" << o.stride()->at(0) << ", "
          << o.stride()->at(1) << "], [" << pad << ", " << pad << "], [1, 1], 1)\n";
      } else if (auto* deconv = child->as<torch::nn::ConvTranspose2dImpl>()) {
        // HeatmapNet's kernel-4, stride-2, padding-1 upsampling (exactly x2): padding is
        // (kernel - stride) / 2, as for the convolutions read from the weight, not the options.
        const int64_t stride = deconv->options.stride()->at(0), pad = (deconv->weight.size(2) - stride) / 2;
        s << "    x = torch.conv_transpose2d(x, " << attr(deconv->weight, false) << ", None, [" << stride << ", "
          << stride << "], [" << pad << ", " << pad << "], [0, 0], 1, [1, 1])\n";
      } else if (auto* bn = child->as<torch::nn::BatchNorm2dImpl>()) {
        s << "    x = torch.batch_norm(x, " << attr(bn->weight, false) << ", " << attr(bn->bias, false) << ", "
          << attr(bn->running_mean, true) << ", " << attr(bn->running_var, true) << ", False, 0.0, "
          << bn->options.eps() << ", False)\n";
      } else if (child->as<torch::nn::ReLUImpl>()) {
        s << "    x = torch.relu(x)\n";
      } else if (child->as<torch::nn::UpsampleImpl>()) {
        s << "    x = x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)\n";  // nearest x2
      } else {
        TORCH_CHECK(false, "HeatmapKeypointModel export: unexpected layer ", child->name());
      }
    }
  }
  s << "    x = torch.conv2d(x, " << attr(net.head->weight, false) << ", " << attr(net.head->bias, false)
    << ", [1, 1], [0, 0], [1, 1], 1)\n";
  s << "    h = x.size(2)\n    w = x.size(3)\n";
  // Pixel-centre grids: (2j + 1) / n - 1.
  s << "    gx = (torch.arange(w, dtype=x.dtype, device=x.device) * 2.0 + 1.0) / w - 1.0\n";
  s << "    gy = (torch.arange(h, dtype=x.dtype, device=x.device) * 2.0 + 1.0) / h - 1.0\n";
  if (model.options.head == "soft_argmax") {
    s << "    p = torch.softmax(x.flatten(2) * " << model.soft_argmax->beta() << ", -1).view(x.shape)\n";
    s << "    cx = (p.sum(2) * gx).sum(-1)\n    cy = (p.sum(3) * gy).sum(-1)\n";
  } else {
    s << "    px = torch.softmax(torch.logsumexp(x, [2]), -1)\n    py = torch.softmax(torch.logsumexp(x, [3]), -1)\n";
    s << "    cx = (px * gx).sum(-1)\n    cy = (py * gy).sum(-1)\n";
    s << "    p = py.unsqueeze(-1) * px.unsqueeze(-2)\n";
  }
  s << "    return torch.stack([cx, cy], -1), p\n";
  module.define(s.str());
  save_script_module(module, path);
}

}  // namespace zoo
