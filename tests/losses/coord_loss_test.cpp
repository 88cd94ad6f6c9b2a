// Heatmap keypoint losses: Gaussian targets, the DSNT Jensen-Shannon regulariser (hand-computed
// values, visibility, finite gradients on one-hot maps) and the per-axis classification loss
// (hand-computed cross-entropy, out-of-range labels rejected) with its decoders.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "losses/coord_loss.h"
#include "losses/keypoint_loss.h"

namespace zoo {
namespace {


// JS divergence of two distributions given as plain numbers, with dsntnn's eps (kJsEps).
double js(const std::vector<double>& p, const std::vector<double>& q) {
  double out = 0.0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double m = 0.5 * (p[i] + q[i]);
    out += 0.5 * p[i] * (std::log(p[i] + kJsEps) - std::log(m + kJsEps));
    out += 0.5 * q[i] * (std::log(q[i] + kJsEps) - std::log(m + kJsEps));
  }
  return out;
}

TEST(GaussianHeatmaps, NormalisedAndCentredInPixelCoordinates) {
  const auto centre = torch::tensor({4.0, 2.0, -50.0, 300.0}, torch::kFloat64).view({1, 2, 2});
  const auto g = gaussian_heatmaps(centre, 6, 9, 1.5);
  ASSERT_EQ(g.sizes(), (torch::IntArrayRef{1, 2, 6, 9}));
  EXPECT_TRUE(torch::allclose(g.sum({2, 3}), torch::ones({1, 2}, torch::kFloat64), 0, 1e-12));
  // Map 0: peak at row 2, col 4; columns 0..8 are symmetric about 4, so x's expectation is 4.
  EXPECT_EQ(g[0][0].argmax().item<int64_t>(), 2 * 9 + 4);
  EXPECT_NEAR((g[0][0].sum(0) * torch::arange(9, torch::kFloat64)).sum().item<double>(), 4.0, 1e-12);
  // Ratio of neighbouring cells: exp(-1 / (2 sigma^2)).
  EXPECT_NEAR((g[0][0][2][5] / g[0][0][2][4]).item<double>(), std::exp(-1.0 / (2 * 2.25)), 1e-12);
  // Map 1: a centre far outside the map is still a finite, normalised map (corner cell largest).
  EXPECT_TRUE(torch::isfinite(g[0][1]).all().item<bool>());
  EXPECT_EQ(g[0][1].argmax().item<int64_t>(), 5 * 9 + 0);
}

TEST(HeatmapJsRegulariser, HandComputedValues) {
  // One 2x3 map, target (x 1, y 0), sigma 1: Gaussian weights exp(-d^2 / 2) at d^2 = 1 0 1 / 2 1 2.
  std::vector<double> g = {std::exp(-0.5), 1.0, std::exp(-0.5), std::exp(-1.0), std::exp(-0.5),
                           std::exp(-1.0)};
  double z = 0;
  for (const double v : g) z += v;
  for (auto& v : g) v /= z;
  const std::vector<double> p = {0.1, 0.4, 0.1, 0.0, 0.3, 0.1};  // one exact zero
  const auto heat = torch::tensor(p, torch::kFloat64).view({1, 1, 2, 3});
  const auto target = torch::tensor({1.0, 0.0}, torch::kFloat64).view({1, 1, 2});
  EXPECT_NEAR(heatmap_js_regulariser(heat, target).item<double>(), js(p, g), 1e-14);
  // The Gaussian itself: 0. A one-hot far away: log 2 (the maximum).
  const auto self = torch::tensor(g, torch::kFloat64).view({1, 1, 2, 3});
  EXPECT_NEAR(heatmap_js_regulariser(self, target).item<double>(), 0.0, 1e-14);
  auto far = torch::zeros({1, 1, 20, 20}, torch::kFloat64);
  far[0][0][19][19] = 1.0;
  EXPECT_NEAR(heatmap_js_regulariser(far, torch::zeros({1, 1, 2}, torch::kFloat64)).item<double>(),
              std::log(2.0), 1e-12);
  // sigma is in pixels: a wider target is closer to a wide map.
  const auto uniform = torch::full({1, 1, 9, 9}, 1.0 / 81, torch::kFloat64);
  const auto mid = torch::tensor({4.0, 4.0}, torch::kFloat64).view({1, 1, 2});
  EXPECT_LT(heatmap_js_regulariser(uniform, mid, {}, 3.0).item<double>(),
            heatmap_js_regulariser(uniform, mid, {}, 1.0).item<double>());
}

TEST(HeatmapJsRegulariser, VisibilityWeightsAndNanTargets) {
  std::vector<double> p = {0.1, 0.4, 0.1, 0.0, 0.3, 0.1};
  const auto one = torch::tensor(p, torch::kFloat64).view({1, 1, 2, 3});
  const auto heat = torch::cat({one, torch::full({1, 1, 2, 3}, 1.0 / 6, torch::kFloat64)}, 1);  // K = 2
  auto target = torch::tensor({1.0, 0.0, 2.0, 1.0}, torch::kFloat64).view({1, 2, 2});
  const double j0 = heatmap_js_regulariser(one, target.slice(1, 0, 1)).item<double>();
  const double j1 =
      heatmap_js_regulariser(heat.slice(1, 1, 2), target.slice(1, 1, 2)).item<double>();
  EXPECT_NEAR(heatmap_js_regulariser(heat, target).item<double>(), (j0 + j1) / 2, 1e-14);
  const auto w = torch::tensor({1.0, 0.5}, torch::kFloat64).view({1, 2});
  EXPECT_NEAR(heatmap_js_regulariser(heat, target, w).item<double>(), (j0 + 0.5 * j1) / 1.5,
              1e-14);
  // An unlabelled keypoint (NaN target, visibility 0) is ignored.
  target[0][1].fill_(std::numeric_limits<double>::quiet_NaN());
  const auto vis = torch::tensor({true, false}).view({1, 2});
  EXPECT_NEAR(heatmap_js_regulariser(heat, target, vis).item<double>(), j0, 1e-14);
  // Nothing visible: 0 with a zero gradient.
  const auto h = heat.clone().requires_grad_(true);
  const auto loss = heatmap_js_regulariser(h, target, torch::zeros({1, 2}, torch::kFloat64));
  EXPECT_EQ(loss.item<double>(), 0.0);
  loss.backward();
  EXPECT_EQ(h.grad().abs().sum().item<double>(), 0.0);
}

// Through a softmax, as in training: the gradient w.r.t. the logits matches central differences,
// and stays finite when the map has cells whose probability underflows to exactly 0.
TEST(HeatmapJsRegulariser, GradientThroughASoftmaxIsFiniteAndCorrect) {
  torch::manual_seed(0);
  const auto target = torch::tensor({1.3, 0.6}, torch::kFloat64).view({1, 1, 2});
  const auto objective = [&](const torch::Tensor& logits) {
    const auto p = torch::softmax(logits.flatten(2), -1).view(logits.sizes());
    return heatmap_js_regulariser(p, target);
  };
  const auto l0 = torch::randn({1, 1, 3, 4}, torch::kFloat64);
  const auto l = l0.clone().requires_grad_(true);
  objective(l).backward();
  const double h = 1e-6;
  for (int64_t i = 0; i < l0.numel(); ++i) {
    auto up = l0.clone(), down = l0.clone();
    up.view(-1)[i] += h;
    down.view(-1)[i] -= h;
    const double numeric =
        (objective(up).item<double>() - objective(down).item<double>()) / (2 * h);
    EXPECT_NEAR(l.grad().view(-1)[i].item<double>(), numeric, 1e-8) << i;
  }
  auto sharp = torch::zeros({1, 1, 3, 4}, torch::kFloat64);
  sharp[0][0][0][0] = 1e4;  // every other probability is exactly 0
  sharp.requires_grad_(true);
  objective(sharp).backward();
  EXPECT_TRUE(torch::isfinite(sharp.grad()).all().item<bool>());
}

TEST(PerAxisCeLoss, MatchesHandComputedCrossEntropy) {
  // Keypoint 0: x logits (0, 1, 2) label 2, y logits (0.5, -0.5) label 0.
  // Keypoint 1: x logits (3, 0, 0) label 1, y logits (0, 0) label 1.
  const auto lx = torch::tensor({0.0, 1.0, 2.0, 3.0, 0.0, 0.0}, torch::kFloat64).view({1, 2, 3});
  const auto ly = torch::tensor({0.5, -0.5, 0.0, 0.0}, torch::kFloat64).view({1, 2, 2});
  const auto labels = torch::tensor({2, 0, 1, 1}, torch::kLong).view({1, 2, 2});
  const double ce0 = -(2.0 - std::log(1 + std::exp(1.0) + std::exp(2.0))) +
                     -(0.5 - std::log(std::exp(0.5) + std::exp(-0.5)));
  const double ce1 = -(0.0 - std::log(std::exp(3.0) + 2)) + std::log(2.0);
  EXPECT_NEAR(per_axis_ce_loss(lx, ly, labels).item<double>(), (ce0 + ce1) / 2, 1e-14);
  // The same as torch's cross_entropy per axis, summed.
  const double torch_ce =
      torch::cross_entropy_loss(lx.view({2, 3}), labels.select(2, 0).flatten()).item<double>() +
      torch::cross_entropy_loss(ly.view({2, 2}), labels.select(2, 1).flatten()).item<double>();
  EXPECT_NEAR(per_axis_ce_loss(lx, ly, labels).item<double>(), torch_ce, 1e-14);
  // Weights, int32 labels; an invisible keypoint's label -1 is fine.
  EXPECT_NEAR(per_axis_ce_loss(lx, ly, labels, torch::tensor({{0.0, 1.0}}, torch::kFloat64)).item<double>(),
              ce1, 1e-14);
  auto unlabelled = labels.to(torch::kInt).clone();
  unlabelled[0][0].fill_(-1);
  EXPECT_NEAR(per_axis_ce_loss(lx, ly, unlabelled, torch::tensor({{false, true}})).item<double>(),
              ce1, 1e-14);
  // Nothing visible: 0 with a zero gradient.
  const auto x = lx.clone().requires_grad_(true);
  const auto loss = per_axis_ce_loss(x, ly, labels, torch::zeros({1, 2}));
  EXPECT_EQ(loss.item<double>(), 0.0);
  loss.backward();
  EXPECT_EQ(x.grad().abs().sum().item<double>(), 0.0);
}

TEST(PerAxisCeLoss, RejectsOutOfRangeLabelsOfVisibleKeypoints) {
  const auto lx = torch::zeros({2, 3, 4}, torch::kFloat64);  // W = 4 column bins
  const auto ly = torch::zeros({2, 3, 5}, torch::kFloat64);  // H = 5 row bins
  const auto bad = [](int64_t n, int64_t k, int axis, int64_t value) {
    auto labels = torch::zeros({2, 3, 2}, torch::kLong);
    labels[n][k][axis] = value;
    return labels;
  };
  EXPECT_THROW(per_axis_ce_loss(lx, ly, bad(0, 1, 0, -1)), std::invalid_argument);
  EXPECT_THROW(per_axis_ce_loss(lx, ly, bad(1, 2, 0, 4)), std::invalid_argument);
  EXPECT_THROW(per_axis_ce_loss(lx, ly, bad(1, 0, 1, 5)), std::invalid_argument);
  EXPECT_NO_THROW(per_axis_ce_loss(lx, ly, bad(1, 0, 1, 4)));
  try {
    per_axis_ce_loss(lx, ly, bad(1, 2, 1, 7));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "per_axis_ce_loss: sample 1, keypoint 2: y label 7 is outside [0, 5)");
  }
  // Invisible: the bad label is ignored.
  auto vis = torch::ones({2, 3});
  vis[1][2] = 0;
  EXPECT_NO_THROW(per_axis_ce_loss(lx, ly, bad(1, 2, 1, 7), vis));
  // Float labels are a type error, not a silent cast.
  EXPECT_THROW(per_axis_ce_loss(lx, ly, torch::zeros({2, 3, 2})), c10::Error);
}

TEST(PerAxisDecoding, ArgmaxAndExpectation) {
  const auto lx = torch::tensor({0.0, 5.0, 1.0, 0.0}, torch::kFloat64).view({1, 1, 4});
  const auto ly = torch::tensor({0.0, 0.0, 9.0}, torch::kFloat64).view({1, 1, 3});
  EXPECT_TRUE(
      torch::equal(per_axis_argmax(lx, ly), torch::tensor({1.0, 2.0}, torch::kFloat64).view({1, 1, 2})));
  const auto e = per_axis_expectation(lx, ly);
  const double zx = 2 + std::exp(5.0) + std::exp(1.0);
  EXPECT_NEAR(e[0][0][0].item<double>(), (std::exp(5.0) + 2 * std::exp(1.0) + 3) / zx, 1e-14);
  const double zy = 2 + std::exp(9.0);
  EXPECT_NEAR(e[0][0][1].item<double>(), (1 + 2 * std::exp(9.0)) / zy, 1e-14);
  // Uniform logits: the middle of the bins.
  const auto u = per_axis_expectation(torch::zeros({1, 1, 4}), torch::zeros({1, 1, 3}));
  EXPECT_NEAR(u[0][0][0].item<double>(), 1.5, 1e-6);
  EXPECT_NEAR(u[0][0][1].item<double>(), 1.0, 1e-6);
}

// The coordinate loss on soft-argmax outputs is keypoint_loss with D = 2 (coord_loss.h): pin
// the behaviour the heatmap head relies on.
TEST(CoordinateLoss, KeypointLossOnTwoDimensionalCoordinates) {
  const auto pred = torch::tensor({0.0, 0.0, 3.0, 4.0}, torch::kFloat64).view({1, 2, 2});
  const auto target = torch::zeros({1, 2, 2}, torch::kFloat64);
  EXPECT_NEAR(keypoint_loss(pred, target).item<double>(), 2.5, 1e-6);  // distances 0 and 5
  KeypointLossOptions l1;
  l1.kind = "l1";
  EXPECT_NEAR(keypoint_loss(pred, target, {}, l1).item<double>(), 7.0 / 4, 1e-12);
  const auto p = pred.clone().requires_grad_(true);
  const auto none = keypoint_loss(p, target, torch::zeros({1, 2}));
  none.backward();
  EXPECT_EQ(none.item<double>(), 0.0);
  EXPECT_EQ(p.grad().abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace zoo
