#include "io/formats/heatmap_onnx.h"

#include "io/formats/onnx_graph.h"
#include "io/formats/resnet_onnx.h"

namespace zoo {
namespace {

using Ints = std::vector<int64_t>;

// (2j + 1) / n - 1 for j < n: the pixel-centre grid of an axis of n = `size` (a 0-d int64) pixels.
std::string pixel_centres(OnnxGraph& g, const std::string& size) {
  const std::string n = g.node("Cast", {size}, {{"to", int64_t{1}}});  // 1 = FLOAT
  const std::string j = g.node("Range", {g.scalar(0.0f), n, g.scalar(1.0f)});
  return g.node("Sub", {g.node("Div", {g.node("Add", {g.node("Mul", {j, g.scalar(2.0f)}), g.scalar(1.0f)}), n}),
                        g.scalar(1.0f)});
}

// (t * grid).sum(-1): the expectation of a distribution t [B, K, n] over the grid [n].
std::string expectation(OnnxGraph& g, const std::string& t, const std::string& grid) {
  return g.node("ReduceSum", {g.node("Mul", {t, grid}), g.ints({-1})}, {{"keepdims", int64_t{0}}});
}

}  // namespace

void export_heatmap_onnx(HeatmapKeypointModelImpl& model, const std::string& path) {
  HeatmapNetImpl& net = *model.net;
  OnnxGraph g("ZooHeatmapKeypoints");
  g.input("images", torch::kFloat, {"batch", 3, "height", "width"});
  std::string x = "images";
  int counter = 0;  // initializers p<counter>, as the TorchScript attributes
  const auto name = [&] { return "p" + std::to_string(counter++); };
  for (auto* seq : {&net.encoder, &net.decoder}) {
    for (const auto& child : (*seq)->children()) {
      if (auto* conv = child->as<torch::nn::Conv2dImpl>()) {
        x = onnx_conv(g, x, name(), conv->weight, {}, conv->options.stride()->at(0), conv->weight.size(2) / 2);
      } else if (auto* deconv = child->as<torch::nn::ConvTranspose2dImpl>()) {
        // Kernel 4, stride 2, padding (kernel - stride) / 2: exactly x2, as heatmap_script.
        const int64_t stride = deconv->options.stride()->at(0), pad = (deconv->weight.size(2) - stride) / 2;
        x = g.node("ConvTranspose", {x, g.initializer(name() + ".weight", deconv->weight)},
                   {{"kernel_shape", Ints{deconv->weight.size(2), deconv->weight.size(3)}},
                    {"strides", Ints{stride, stride}},
                    {"pads", Ints{pad, pad, pad, pad}}});
      } else if (auto* bn = child->as<torch::nn::BatchNorm2dImpl>()) {
        x = onnx_batch_norm(g, x, name(), *bn);
      } else if (child->as<torch::nn::ReLUImpl>()) {
        x = g.node("Relu", {x});
      } else if (child->as<torch::nn::UpsampleImpl>()) {
        // Nearest x2 (repeat_interleave twice): asymmetric coordinates, floor.
        x = g.node("Resize", {x, "", g.initializer(name() + ".scales", torch::tensor({1.0f, 1.0f, 2.0f, 2.0f}))},
                   {{"mode", std::string("nearest")},
                    {"coordinate_transformation_mode", std::string("asymmetric")},
                    {"nearest_mode", std::string("floor")}});
      } else {
        TORCH_CHECK(false, "HeatmapKeypointModel ONNX export: unexpected layer ", child->name());
      }
    }
  }
  x = onnx_conv(g, x, name(), net.head->weight, net.head->bias, 1, 0);
  const std::string shape = g.node("Shape", {x});
  const std::string gy = pixel_centres(g, g.node("Gather", {shape, g.index(2)}));
  const std::string gx = pixel_centres(g, g.node("Gather", {shape, g.index(3)}));
  const auto softmax = [&](const std::string& t) { return g.node("Softmax", {t}, {{"axis", int64_t{-1}}}); };
  const auto sum = [&](const std::string& t, int64_t axis) {
    return g.node("ReduceSum", {t, g.ints({axis})}, {{"keepdims", int64_t{0}}});
  };
  std::string p, cx, cy;
  if (model.options.head == "soft_argmax") {
    const std::string flat = g.node("Reshape", {x, g.ints({0, 0, -1})});
    p = g.node("Reshape", {softmax(g.node("Mul", {flat, g.scalar(static_cast<float>(model.soft_argmax->beta()))})), shape});
    cx = expectation(g, sum(p, 2), gx);
    cy = expectation(g, sum(p, 3), gy);
  } else {
    const auto lse = [&](int64_t axis) {
      return g.node("ReduceLogSumExp", {x}, {{"axes", Ints{axis}}, {"keepdims", int64_t{0}}});
    };
    const std::string px = softmax(lse(2)), py = softmax(lse(3));
    cx = expectation(g, px, gx);
    cy = expectation(g, py, gy);
    p = g.node("Mul", {g.node("Unsqueeze", {py, g.ints({-1})}), g.node("Unsqueeze", {px, g.ints({-2})})});
  }
  const std::string coords = g.node(
      "Concat", {g.node("Unsqueeze", {cx, g.ints({-1})}), g.node("Unsqueeze", {cy, g.ints({-1})})}, {{"axis", int64_t{-1}}});
  const int64_t k = net.head->weight.size(0);
  g.output("coords", coords, torch::kFloat, {"batch", k, 2});
  g.output("heatmaps", p, torch::kFloat, {"batch", k, "heatmap_height", "heatmap_width"});
  g.save(path, "zoo heatmap keypoints: images [batch, 3, height, width] -> (coords [batch, K, 2], heatmaps)");
}

}  // namespace zoo
