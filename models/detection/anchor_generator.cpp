#include "models/detection/anchor_generator.h"

#include <utility>

namespace zoo {
namespace {

// Computed in float32 like torchvision's generate_anchors, so the rounding of values such as
// 90.5097 or 22.5 happens on the same float32 numbers.
torch::Tensor make_cell_anchors(const std::vector<double>& sizes,
                                const std::vector<double>& ratios) {
  const auto scales = torch::tensor(sizes, torch::kDouble).to(torch::kFloat);
  const auto aspect = torch::tensor(ratios, torch::kDouble).to(torch::kFloat);
  const auto h_ratios = aspect.sqrt();
  const auto w_ratios = 1 / h_ratios;
  const auto ws = (w_ratios.unsqueeze(1) * scales.unsqueeze(0)).view(-1);
  const auto hs = (h_ratios.unsqueeze(1) * scales.unsqueeze(0)).view(-1);
  return (torch::stack({-ws, -hs, ws, hs}, 1) / 2).round();
}

}  // namespace

AnchorGenerator::AnchorGenerator(AnchorGeneratorOptions options) : options_(std::move(options)) {
  TORCH_CHECK(!options_.sizes.empty() && options_.sizes.size() == options_.aspect_ratios.size(),
              "AnchorGenerator: need one list of sizes and one of aspect ratios per level, got ",
              options_.sizes.size(), " and ", options_.aspect_ratios.size());
  for (size_t l = 0; l < options_.sizes.size(); ++l) {
    TORCH_CHECK(!options_.sizes[l].empty() && !options_.aspect_ratios[l].empty(),
                "AnchorGenerator: level ", l, " has no sizes or no aspect ratios");
    for (double r : options_.aspect_ratios[l])
      TORCH_CHECK(r > 0, "AnchorGenerator: aspect ratios must be > 0, got ", r);
    cell_anchors_.push_back(make_cell_anchors(options_.sizes[l], options_.aspect_ratios[l]));
  }
}

std::vector<int64_t> AnchorGenerator::num_anchors_per_location() const {
  std::vector<int64_t> out;
  for (const auto& c : cell_anchors_) out.push_back(c.size(0));
  return out;
}

const torch::Tensor& AnchorGenerator::cell_anchors(int64_t level) const {
  TORCH_CHECK(level >= 0 && level < num_levels(), "AnchorGenerator: no level ", level);
  return cell_anchors_[level];
}

torch::Tensor AnchorGenerator::grid_anchors(
    const std::array<int64_t, 2>& padded_size,
    const std::vector<std::array<int64_t, 2>>& feature_sizes,
    const torch::TensorOptions& options) const {
  TORCH_CHECK(static_cast<int64_t>(feature_sizes.size()) == num_levels(),
              "AnchorGenerator: ", num_levels(), " levels configured but ", feature_sizes.size(),
              " feature maps given");
  const auto long_opts = options.dtype(torch::kLong);
  std::vector<torch::Tensor> levels;
  for (int64_t l = 0; l < num_levels(); ++l) {
    const auto [grid_h, grid_w] = feature_sizes[l];
    TORCH_CHECK(grid_h > 0 && grid_w > 0 && grid_h <= padded_size[0] && grid_w <= padded_size[1],
                "AnchorGenerator: feature map ", grid_h, "x", grid_w,
                " must be non-empty and no larger than the padded batch ", padded_size[0], "x",
                padded_size[1]);
    const int64_t stride_h = padded_size[0] / grid_h;  // integer division, as torchvision
    const int64_t stride_w = padded_size[1] / grid_w;
    const auto shifts_x = torch::arange(grid_w, long_opts) * stride_w;
    const auto shifts_y = torch::arange(grid_h, long_opts) * stride_h;
    const auto grid = torch::meshgrid({shifts_y, shifts_x}, "ij");
    const auto sx = grid[1].reshape(-1), sy = grid[0].reshape(-1);
    const auto shifts = torch::stack({sx, sy, sx, sy}, 1).to(options.dtype());
    const auto base = cell_anchors_[l].to(options);
    levels.push_back((shifts.view({-1, 1, 4}) + base.view({1, -1, 4})).reshape({-1, 4}));
  }
  return torch::cat(levels, 0);
}

torch::Tensor AnchorGenerator::operator()(const std::array<int64_t, 2>& padded_size,
                                          const std::vector<torch::Tensor>& features) const {
  TORCH_CHECK(!features.empty(), "AnchorGenerator: no feature maps");
  std::vector<std::array<int64_t, 2>> sizes;
  for (const auto& f : features) {
    TORCH_CHECK(f.dim() == 4, "AnchorGenerator: feature maps must be [N, C, H, W], got ",
                f.sizes());
    sizes.push_back({f.size(2), f.size(3)});
  }
  return grid_anchors(padded_size, sizes, features[0].options());
}

}  // namespace zoo
