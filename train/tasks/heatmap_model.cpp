#include "train/tasks/heatmap_model.h"

#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "losses/coord_loss.h"
#include "io/atomic_file.h"

namespace zoo {

Json heatmap_model_defaults() {
  const HeatmapModelOptions o;
  return {{"head", o.head},
          {"encoder_channels", o.net.encoder_channels},
          {"decoder_channels", o.net.decoder_channels},
          {"decoder", o.net.decoder},
          {"beta", o.soft_argmax.beta},
          {"learnable_beta", o.soft_argmax.learnable_beta}};
}

Json heatmap_loss_defaults() {
  const HeatmapModelOptions o;
  return {{"kind", o.coord_loss.kind},
          {"smooth_l1_beta", o.coord_loss.smooth_l1_beta},
          {"js_weight", o.js_weight},
          {"js_sigma", o.js_sigma}};
}

HeatmapModelOptions heatmap_model_options(const Config& cfg) {
  HeatmapModelOptions o;
  const Json& m = cfg.at("model");
  o.head = m.at("head").get<std::string>();
  cfg.require(o.head == "soft_argmax" || o.head == "per_axis", "model.head", "must be soft_argmax or per_axis");
  o.net.encoder_channels = m.at("encoder_channels").get<std::vector<int64_t>>();
  o.net.decoder_channels = m.at("decoder_channels").get<std::vector<int64_t>>();
  o.net.decoder = m.at("decoder").get<std::string>();
  cfg.require(!o.net.encoder_channels.empty() && o.net.encoder_channels.size() <= 6, "model.encoder_channels",
              "must list 1 to 6 stage widths");
  cfg.require(o.net.decoder_channels.size() <= o.net.encoder_channels.size(), "model.decoder_channels",
              "must not have more stages than model.encoder_channels");
  for (const auto* list : {&o.net.encoder_channels, &o.net.decoder_channels})
    for (const int64_t c : *list) cfg.require(c > 0 && c <= 4096, "model.encoder_channels", "widths must be in [1, 4096]");
  cfg.require(o.net.decoder == "deconv" || o.net.decoder == "upsample", "model.decoder", "must be deconv or upsample");
  o.soft_argmax.beta = m.at("beta").get<double>();
  o.soft_argmax.learnable_beta = m.at("learnable_beta").get<bool>();
  cfg.require(o.soft_argmax.beta > 0, "model.beta", "must be > 0");
  const Json& l = cfg.at("loss");
  o.coord_loss.kind = l.at("kind").get<std::string>();
  o.coord_loss.smooth_l1_beta = l.at("smooth_l1_beta").get<double>();
  cfg.require(o.coord_loss.kind == "euclidean" || o.coord_loss.kind == "l1" || o.coord_loss.kind == "mse" ||
                  o.coord_loss.kind == "smooth_l1",
              "loss.kind", "must be euclidean, l1, mse or smooth_l1 (the coordinate loss of soft_argmax)");
  o.js_weight = l.at("js_weight").get<double>();
  o.js_sigma = l.at("js_sigma").get<double>();
  cfg.require(o.js_weight >= 0, "loss.js_weight", "must be >= 0");
  cfg.require(o.js_sigma > 0, "loss.js_sigma", "must be > 0");
  cfg.require(o.js_weight == 0 || o.head == "soft_argmax", "loss.js_weight", "applies to model.head soft_argmax only");
  return o;
}

HeatmapKeypointModelImpl::HeatmapKeypointModelImpl(const HeatmapModelOptions& o) : options(o) {
  net = register_module("net", HeatmapNet(o.net));
  soft_argmax = register_module("soft_argmax", SoftArgmax2d(o.soft_argmax));
}

namespace {

// Per-axis logits of heatmap logits [B, K, h, w]: the log of each marginal of the joint softmax.
std::pair<torch::Tensor, torch::Tensor> axis_logits(const torch::Tensor& logits) {
  return {logits.logsumexp(2), logits.logsumexp(3)};  // x: [B, K, w], y: [B, K, h]
}

}  // namespace

HeatmapKeypointModelImpl::Output HeatmapKeypointModelImpl::forward(const torch::Tensor& images) {
  const torch::Tensor logits = net->forward(images);
  if (options.head == "soft_argmax") {
    SoftArgmaxOutput out = soft_argmax->forward_with_heatmaps(logits);
    return {out.coords, out.heatmaps};
  }
  const auto [lx, ly] = axis_logits(logits);
  const auto px = lx.softmax(-1), py = ly.softmax(-1);
  const auto gx = coordinate_grid(lx.size(-1), CoordConvention::kPixelCentre, px.options());
  const auto gy = coordinate_grid(ly.size(-1), CoordConvention::kPixelCentre, py.options());
  const auto coords = torch::stack({(px * gx).sum(-1), (py * gy).sum(-1)}, -1);
  return {coords, py.unsqueeze(-1) * px.unsqueeze(-2)};
}

torch::Tensor HeatmapKeypointModelImpl::loss(const torch::Tensor& images, const torch::Tensor& uv,
                                             const torch::Tensor& visible) {
  const torch::Tensor logits = net->forward(images);
  if (options.head == "per_axis") {
    const auto [lx, ly] = axis_logits(logits);
    // The bin of each coordinate: cell j spans [2j/n - 1, 2(j+1)/n - 1) in this convention. The
    // clamp only catches a visible keypoint exactly on the far edge; invisible ones (off the
    // image) are ignored by the loss whatever their bin.
    const auto bin = [&](const torch::Tensor& c, int64_t n) {
      return ((c + 1) * (0.5 * static_cast<double>(n))).floor().clamp(0, n - 1).to(torch::kInt64);
    };
    const auto labels = torch::stack({bin(uv.select(-1, 0), lx.size(-1)), bin(uv.select(-1, 1), ly.size(-1))}, -1);
    return per_axis_ce_loss(lx, ly, labels, visible);
  }
  const SoftArgmaxOutput out = soft_argmax->forward_with_heatmaps(logits);
  torch::Tensor loss = keypoint_loss(out.coords, uv, visible, options.coord_loss);
  if (options.js_weight > 0) {
    const auto target_cells = convert_coords(uv, {logits.size(3), logits.size(2)}, CoordConvention::kPixelCentre,
                                             CoordConvention::kPixel);
    loss = loss + options.js_weight * heatmap_js_regulariser(out.heatmaps, target_cells, visible, options.js_sigma);
  }
  return loss;
}

void HeatmapKeypointModelImpl::export_torchscript(const std::string& path) {
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
  for (auto* seq : {&net->encoder, &net->decoder}) {
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
  s << "    x = torch.conv2d(x, " << attr(net->head->weight, false) << ", " << attr(net->head->bias, false)
    << ", [1, 1], [0, 0], [1, 1], 1)\n";
  s << "    h = x.size(2)\n    w = x.size(3)\n";
  // Pixel-centre grids: (2j + 1) / n - 1.
  s << "    gx = (torch.arange(w, dtype=x.dtype, device=x.device) * 2.0 + 1.0) / w - 1.0\n";
  s << "    gy = (torch.arange(h, dtype=x.dtype, device=x.device) * 2.0 + 1.0) / h - 1.0\n";
  if (options.head == "soft_argmax") {
    s << "    p = torch.softmax(x.flatten(2) * " << soft_argmax->beta() << ", -1).view(x.shape)\n";
    s << "    cx = (p.sum(2) * gx).sum(-1)\n    cy = (p.sum(3) * gy).sum(-1)\n";
  } else {
    s << "    px = torch.softmax(torch.logsumexp(x, [2]), -1)\n    py = torch.softmax(torch.logsumexp(x, [3]), -1)\n";
    s << "    cx = (px * gx).sum(-1)\n    cy = (py * gy).sum(-1)\n";
    s << "    p = py.unsqueeze(-1) * px.unsqueeze(-2)\n";
  }
  s << "    return torch.stack([cx, cy], -1), p\n";
  module.define(s.str());
  std::ostringstream bytes;
  module.save(bytes);
  const std::string data = bytes.str();
  atomic_write(path, [&](const ByteSink& sink) { sink(data.data(), data.size()); });
}

}  // namespace zoo
