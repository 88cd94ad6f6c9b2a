#include "losses/coord_loss.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace zoo {
namespace {

torch::Tensor to_compute_dtype(const torch::Tensor& t, const char* what) {
  TORCH_CHECK(t.is_floating_point(), what, ": expected a floating-point tensor, got ",
              t.scalar_type());
  return t.scalar_type() == torch::kDouble ? t : t.to(torch::kFloat);
}

void check_visible(const torch::Tensor& visible, torch::IntArrayRef batch_keypoints,
                   const char* what) {
  TORCH_CHECK(!visible.defined() || visible.sizes() == batch_keypoints, what,
              ": visible must be [B, K] = ", batch_keypoints, ", got ", visible.sizes());
}

// sum_nk m_nk l_nk / max(sum m, 1) (keypoint_loss's reduction). Losses of keypoints with m <= 0
// are zeroed before weighting, so a NaN there cannot leak through 0 * NaN.
torch::Tensor weighted_mean(const torch::Tensor& per_keypoint, const torch::Tensor& visible) {
  if (!visible.defined()) return per_keypoint.mean();
  const auto m = visible.to(per_keypoint.scalar_type());
  const auto l = per_keypoint.masked_fill(m <= 0, 0.0);
  return (l * m).sum() / m.sum().clamp_min(1.0);
}

void check_axis_logits(const torch::Tensor& logits_x, const torch::Tensor& logits_y,
                       const char* what) {
  TORCH_CHECK(logits_x.dim() == 3 && logits_y.dim() == 3 &&
                  logits_x.sizes().slice(0, 2) == logits_y.sizes().slice(0, 2),
              what, ": logits_x [B, K, W] and logits_y [B, K, H] expected, got ", logits_x.sizes(),
              " and ", logits_y.sizes());
}

}  // namespace

torch::Tensor gaussian_heatmaps(const torch::Tensor& centres, int64_t height, int64_t width,
                                double sigma) {
  TORCH_CHECK(centres.dim() == 3 && centres.size(2) == 2,
              "gaussian_heatmaps: centres must be [B, K, 2] (x, y), got ", centres.sizes());
  TORCH_CHECK(height > 0 && width > 0 && sigma > 0,
              "gaussian_heatmaps: need height, width, sigma > 0");
  const auto c = to_compute_dtype(centres, "gaussian_heatmaps");
  const auto cols = torch::arange(width, c.options());
  const auto rows = torch::arange(height, c.options());
  const double scale = -0.5 / (sigma * sigma);
  const auto dx2 = (cols - c.select(2, 0).unsqueeze(-1)).square();  // [B, K, W]
  const auto dy2 = (rows - c.select(2, 1).unsqueeze(-1)).square();  // [B, K, H]
  const auto logits = (dy2.unsqueeze(-1) + dx2.unsqueeze(-2)) * scale;  // [B, K, H, W]
  return torch::softmax(logits.flatten(2), -1).view(logits.sizes());
}

torch::Tensor heatmap_js_regulariser(const torch::Tensor& heatmaps, const torch::Tensor& target,
                                     const torch::Tensor& visible, double sigma) {
  TORCH_CHECK(heatmaps.dim() == 4 && target.dim() == 3 && target.size(2) == 2 &&
                  heatmaps.sizes().slice(0, 2) == target.sizes().slice(0, 2),
              "heatmap_js_regulariser: heatmaps [B, K, H, W] and target [B, K, 2] expected, got ",
              heatmaps.sizes(), " and ", target.sizes());
  check_visible(visible, heatmaps.sizes().slice(0, 2), "heatmap_js_regulariser");
  const auto p = to_compute_dtype(heatmaps, "heatmap_js_regulariser");
  auto t = target.to(p.scalar_type());
  // A NaN placeholder target of an invisible keypoint would make its whole Gaussian NaN.
  if (visible.defined()) t = t.masked_fill((visible.to(p.scalar_type()) <= 0).unsqueeze(-1), 0.0);
  const auto g = gaussian_heatmaps(t, p.size(2), p.size(3), sigma);
  const auto mid = 0.5 * (p + g);
  const auto log_mid = (mid + kJsEps).log();
  const auto kl = [&](const torch::Tensor& q) {
    return (q * ((q + kJsEps).log() - log_mid)).sum({2, 3});
  };
  return weighted_mean(0.5 * kl(p) + 0.5 * kl(g), visible);
}

torch::Tensor per_axis_ce_loss(const torch::Tensor& logits_x, const torch::Tensor& logits_y,
                               const torch::Tensor& labels, const torch::Tensor& visible) {
  check_axis_logits(logits_x, logits_y, "per_axis_ce_loss");
  const auto bk = logits_x.sizes().slice(0, 2);
  TORCH_CHECK(labels.dim() == 3 && labels.size(2) == 2 && labels.sizes().slice(0, 2) == bk &&
                  !labels.is_floating_point() && labels.scalar_type() != torch::kBool,
              "per_axis_ce_loss: labels must be integer [B, K, 2] = (x bin, y bin) with B, K = ",
              bk, ", got ", labels.sizes(), " ", labels.scalar_type());
  check_visible(visible, bk, "per_axis_ce_loss");
  const int64_t bins[2] = {logits_x.size(2), logits_y.size(2)};

  // Validate on the CPU (one copy of B*K*2 integers): an out-of-range label must be an error
  // naming the keypoint, not an out-of-bounds gather.
  const auto lab = labels.to(torch::kCPU, torch::kLong).contiguous();
  const auto vis = visible.defined() ? visible.to(torch::kCPU, torch::kDouble).contiguous()
                                     : torch::ones(bk, torch::kDouble);
  const auto l = lab.accessor<int64_t, 3>();
  const auto v = vis.accessor<double, 2>();
  for (int64_t n = 0; n < lab.size(0); ++n)
    for (int64_t k = 0; k < lab.size(1); ++k)
      for (int a = 0; a < 2; ++a)
        if (v[n][k] > 0 && (l[n][k][a] < 0 || l[n][k][a] >= bins[a]))
          throw std::invalid_argument(
              "per_axis_ce_loss: sample " + std::to_string(n) + ", keypoint " +
              std::to_string(k) + ": " + (a == 0 ? "x" : "y") + " label " +
              std::to_string(l[n][k][a]) + " is outside [0, " + std::to_string(bins[a]) + ")");

  const auto nll = [&](const torch::Tensor& logits, int a) {
    // Labels of invisible keypoints may be anything (e.g. -1): clamp them to a valid bin; their
    // weight is 0.
    const auto label = labels.select(2, a).to(torch::kLong).clamp(0, bins[a] - 1);
    const auto log_p = torch::log_softmax(to_compute_dtype(logits, "per_axis_ce_loss"), -1);
    return -log_p.gather(-1, label.unsqueeze(-1)).squeeze(-1);  // [B, K]
  };
  return weighted_mean(nll(logits_x, 0) + nll(logits_y, 1), visible);
}

torch::Tensor per_axis_argmax(const torch::Tensor& logits_x, const torch::Tensor& logits_y) {
  check_axis_logits(logits_x, logits_y, "per_axis_argmax");
  const auto x = to_compute_dtype(logits_x, "per_axis_argmax");
  return torch::stack({x.argmax(-1), logits_y.argmax(-1)}, -1).to(x.scalar_type());
}

torch::Tensor per_axis_expectation(const torch::Tensor& logits_x, const torch::Tensor& logits_y) {
  check_axis_logits(logits_x, logits_y, "per_axis_expectation");
  const auto expected_bin = [](const torch::Tensor& logits) {
    const auto z = to_compute_dtype(logits, "per_axis_expectation");
    return (torch::softmax(z, -1) * torch::arange(z.size(-1), z.options())).sum(-1);
  };
  return torch::stack({expected_bin(logits_x), expected_bin(logits_y)}, -1);
}

}  // namespace zoo
