#include "models/soft_argmax.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace zoo {
namespace {

// Grid value of cell j is scale * j + offset (spec §3.1 table).
std::pair<double, double> grid_affine(int64_t n, CoordConvention convention) {
  const double nd = static_cast<double>(n);
  switch (convention) {
    case CoordConvention::kPixel:
      return {1.0, 0.0};
    case CoordConvention::kAlignCorners:
      // One cell: every normalised x maps to it (grid_sample), so its value is the centre, 0.
      return n > 1 ? std::make_pair(2.0 / (nd - 1.0), -1.0) : std::make_pair(0.0, 0.0);
    case CoordConvention::kPixelCentre:
      return {2.0 / nd, 1.0 / nd - 1.0};
  }
  TORCH_CHECK(false, "unknown CoordConvention");
}

// The grid value of the map's centre: where a uniform (or all-zero) map lands.
double grid_centre(int64_t n, CoordConvention convention) {
  return convention == CoordConvention::kPixel ? (static_cast<double>(n) - 1.0) / 2.0 : 0.0;
}

// exp and the normalising sum lose too much in half precision (user-needs §2.3).
torch::Tensor to_compute_dtype(const torch::Tensor& t) {
  TORCH_CHECK(t.is_floating_point(), "soft-argmax: expected a floating-point tensor, got ",
              t.scalar_type());
  return t.scalar_type() == torch::kDouble ? t : t.to(torch::kFloat);
}

}  // namespace

CoordConvention parse_coord_convention(const std::string& name) {
  if (name == "pixel") return CoordConvention::kPixel;
  if (name == "align_corners") return CoordConvention::kAlignCorners;
  if (name == "pixel_centre") return CoordConvention::kPixelCentre;
  TORCH_CHECK(false, "unknown coordinate convention '", name,
              "' (pixel | align_corners (kornia) | pixel_centre (DSNT))");
}

torch::Tensor coordinate_grid(int64_t n, CoordConvention convention,
                              const torch::TensorOptions& options) {
  TORCH_CHECK(n > 0, "coordinate_grid: need n > 0, got ", n);
  const auto [scale, offset] = grid_affine(n, convention);
  return torch::arange(n, options) * scale + offset;
}

torch::Tensor convert_coords(const torch::Tensor& coords, torch::IntArrayRef extent,
                             CoordConvention from, CoordConvention to) {
  TORCH_CHECK(coords.is_floating_point() && coords.dim() >= 1 &&
                  coords.size(-1) == static_cast<int64_t>(extent.size()),
              "convert_coords: coords [..., ", extent.size(), "] (floating) expected for extent ",
              extent, ", got ", coords.sizes(), " ", coords.scalar_type());
  // Per axis out = a * u + b_to with u = (x - b_from) / a_from, folded into one affine map.
  std::vector<double> scale, shift;
  for (const int64_t n : extent) {
    TORCH_CHECK(n > 0, "convert_coords: extent must be positive, got ", extent);
    const auto [a_from, b_from] = grid_affine(n, from);
    const auto [a_to, b_to] = grid_affine(n, to);
    // a_from = 0 only for a one-cell align-corners axis, whose pixel coordinate is always 0.
    const double a = a_from == 0.0 ? 0.0 : a_to / a_from;
    scale.push_back(a);
    shift.push_back(b_to - a * b_from);
  }
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  return coords * torch::tensor(scale, opts).to(coords.options()) +
         torch::tensor(shift, opts).to(coords.options());
}

torch::Tensor spatial_softmax(const torch::Tensor& logits, int64_t spatial_dims,
                              const torch::Tensor& mask) {
  TORCH_CHECK((spatial_dims == 2 || spatial_dims == 3) && logits.dim() == spatial_dims + 2,
              "spatial_softmax: logits must be [B, K, ", spatial_dims == 3 ? "D, " : "",
              "H, W], got ", logits.sizes());
  const auto z = to_compute_dtype(logits);
  auto flat = z.flatten(2);
  if (mask.defined()) {
    const auto valid = mask.scalar_type() == torch::kBool ? mask : mask > 0;
    flat = flat.masked_fill(valid.logical_not().expand_as(z).flatten(2),
                            -std::numeric_limits<double>::infinity());
  }
  // Softmax is invariant to the shift, so it carries no gradient. A map with no finite valid
  // cell has max -inf; shifting by 0 instead keeps exp(-inf) = 0 rather than NaN.
  auto shift = flat.amax(-1, /*keepdim=*/true).detach();
  shift = shift.masked_fill(shift == -std::numeric_limits<double>::infinity(), 0.0);
  const auto e = (flat - shift).exp();
  // The max cell contributes exp(0) = 1, so any map with a valid cell sums to >= 1 and the clamp
  // only acts on the all-zero map (0 / 1 = 0, zero gradient).
  return (e / e.sum(-1, /*keepdim=*/true).clamp_min(1.0)).view(z.sizes());
}

torch::Tensor spatial_expectation(const torch::Tensor& probs, CoordConvention convention) {
  const int64_t spatial_dims = probs.dim() - 2;
  TORCH_CHECK((spatial_dims == 2 || spatial_dims == 3) && probs.is_floating_point(),
              "spatial_expectation: probs must be floating [B, K, H, W] or [B, K, D, H, W], got ",
              probs.sizes(), " ", probs.scalar_type());
#ifndef NDEBUG
  const auto sums = probs.flatten(2).sum(-1);
  TORCH_CHECK(((sums - 1).abs() < 1e-3).logical_or(sums == 0).all().item<bool>(),
              "spatial_expectation: each map must sum to 1 (apply spatial_softmax first)");
#endif
  std::vector<torch::Tensor> coords;
  for (int64_t axis = 0; axis < spatial_dims; ++axis) {  // x = last dim, then y, then z
    const int64_t dim = probs.dim() - 1 - axis;
    std::vector<int64_t> others;
    for (int64_t d = 2; d < probs.dim(); ++d)
      if (d != dim) others.push_back(d);
    const auto marginal = probs.sum(others);  // [B, K, n]
    const int64_t n = probs.size(dim);
    // Centred grid: the all-zero map lands on the centre, and a one-hot map gives
    // centre + (grid_j - centre), which is exactly grid_j for these dyadic grid values.
    const double centre = grid_centre(n, convention);
    const auto grid = coordinate_grid(n, convention, probs.options()) - centre;
    coords.push_back((marginal * grid).sum(-1) + centre);
  }
  return torch::stack(coords, -1);
}

SoftArgmaxImpl::SoftArgmaxImpl(int64_t spatial_dims, const SoftArgmaxOptions& opts)
    : options(opts), spatial_dims_(spatial_dims) {
  TORCH_CHECK(std::isfinite(options.beta) && options.beta > 0,
              "SoftArgmax: beta must be finite and > 0, got ", options.beta);
  if (options.learnable_beta)
    log_beta = register_parameter("log_beta", torch::scalar_tensor(std::log(options.beta)));
}

torch::Tensor SoftArgmaxImpl::forward(const torch::Tensor& logits, const torch::Tensor& mask) {
  return forward_with_heatmaps(logits, mask).coords;
}

SoftArgmaxOutput SoftArgmaxImpl::forward_with_heatmaps(const torch::Tensor& logits,
                                                       const torch::Tensor& mask) {
  TORCH_CHECK(logits.dim() == spatial_dims_ + 2, "SoftArgmax", spatial_dims_,
              "d: logits must have ", spatial_dims_ + 2, " dims [B, K, ",
              spatial_dims_ == 3 ? "D, " : "", "H, W], got ", logits.sizes());
  // Scale after promoting: beta * logits can overflow in half.
  const auto z = to_compute_dtype(logits);
  const auto scaled = log_beta.defined() ? z * log_beta.exp() : z * options.beta;
  SoftArgmaxOutput out;
  out.heatmaps = spatial_softmax(scaled, spatial_dims_, mask);
  out.coords = spatial_expectation(out.heatmaps, options.convention);
  return out;
}

double SoftArgmaxImpl::beta() const {
  return log_beta.defined() ? std::exp(log_beta.item<double>()) : options.beta;
}

}  // namespace zoo
