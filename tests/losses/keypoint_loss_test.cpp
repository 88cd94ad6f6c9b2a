// keypoint_loss: hand-computed values of every kind, visibility weights, and a finite gradient
// at exactly zero error (where plain sqrt(sum e^2) gives NaN).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "losses/keypoint_loss.h"

namespace zoo {
namespace {


// One sample, two keypoints: errors (0, 0, 0) and (1, 2, 2), distances 0 and 3.
torch::Tensor pred() { return torch::tensor({0.0, 0.0, 0.0, 1.0, 2.0, 2.0}, torch::kFloat64).view({1, 2, 3}); }
torch::Tensor target() { return torch::zeros({1, 2, 3}, torch::kFloat64); }

double loss_of(const std::string& kind, const torch::Tensor& visible = {}, double beta = 1.0) {
  KeypointLossOptions o;
  o.kind = kind;
  o.smooth_l1_beta = beta;
  return keypoint_loss(pred(), target(), visible, o).item<double>();
}

TEST(KeypointLoss, HandComputedValues) {
  // Euclidean: (sqrt(eps) + 3) / 2; sqrt(eps) = 1e-6 is the documented bias.
  EXPECT_NEAR(loss_of("euclidean"), 1.5, 1e-6);
  EXPECT_NEAR(keypoint_loss(pred(), target()).item<double>(), 1.5, 1e-6);  // the default
  EXPECT_NEAR(loss_of("l1"), 5.0 / 6.0, 1e-12);                           // |1|+|2|+|2| over 6
  EXPECT_NEAR(loss_of("mse"), 9.0 / 6.0, 1e-12);                          // 1+4+4 over 6
  // smooth_l1 (beta 1): 0.5 * 1^2 + (2 - 0.5) + (2 - 0.5) = 3.5 over 6 coordinates.
  EXPECT_NEAR(loss_of("smooth_l1"), 3.5 / 6.0, 1e-12);
  // beta 4: all quadratic, 0.5 * x^2 / 4 -> 0.125 + 0.5 + 0.5 over 6. beta 0 is l1.
  EXPECT_NEAR(loss_of("smooth_l1", {}, 4.0), 1.125 / 6.0, 1e-12);
  EXPECT_NEAR(loss_of("smooth_l1", {}, 0.0), 5.0 / 6.0, 1e-12);
}

TEST(KeypointLoss, EuclideanIsTheMeanPerKeypointDistanceOverABatch) {
  torch::manual_seed(0);
  const auto p = torch::randn({4, 21, 3}, torch::kFloat64), t = torch::randn({4, 21, 3}, torch::kFloat64);
  const double expected = (p - t).norm(2, -1).mean().item<double>();
  EXPECT_NEAR(keypoint_loss(p, t).item<double>(), expected, 1e-9);
  KeypointLossOptions mse;
  mse.kind = "mse";
  EXPECT_NEAR(keypoint_loss(p, t, {}, mse).item<double>(),
              torch::mse_loss(p, t).item<double>(), 1e-12);
  // Float in, float out (the loss does not silently promote).
  EXPECT_EQ(keypoint_loss(p.to(torch::kFloat), t.to(torch::kFloat)).scalar_type(), torch::kFloat);
}

TEST(KeypointLoss, VisibilityWeights) {
  const auto vis = [](double a, double b) { return torch::tensor({a, b}, torch::kFloat64).view({1, 2}); };
  EXPECT_NEAR(loss_of("euclidean", vis(0, 1)), 3.0, 1e-9);
  EXPECT_NEAR(loss_of("euclidean", vis(1, 0)), 0.0, 2e-6);
  EXPECT_NEAR(loss_of("l1", vis(0, 1)), 5.0 / 3.0, 1e-12);  // over the 3 visible coordinates
  EXPECT_NEAR(loss_of("mse", vis(0, 1)), 3.0, 1e-12);
  EXPECT_NEAR(loss_of("smooth_l1", vis(0, 1)), 3.5 / 3.0, 1e-12);
  // Fractional weights: (0.5 * 1e-6 + 1 * 3) / 1.5.
  EXPECT_NEAR(loss_of("euclidean", vis(0.5, 1)), 2.0, 1e-6);
  // A bool mask works like 0/1.
  const auto bool_vis = torch::tensor({false, true}).view({1, 2});
  EXPECT_NEAR(loss_of("euclidean", bool_vis), 3.0, 1e-9);
}

TEST(KeypointLoss, NothingVisibleGivesZeroWithZeroGradient) {
  for (const char* kind : {"euclidean", "l1", "mse", "smooth_l1"}) {
    auto p = pred().clone().requires_grad_(true);
    KeypointLossOptions o;
    o.kind = kind;
    const auto loss = keypoint_loss(p, target(), torch::zeros({1, 2}), o);
    EXPECT_EQ(loss.item<double>(), 0.0) << kind;
    loss.backward();
    EXPECT_EQ(p.grad().abs().sum().item<double>(), 0.0) << kind;
  }
}

TEST(KeypointLoss, NanTargetAtAnInvisibleKeypointIsIgnored) {
  auto t = target();
  t[0][0].fill_(std::numeric_limits<double>::quiet_NaN());
  auto p = pred().clone().requires_grad_(true);
  const auto loss = keypoint_loss(p, t, torch::tensor({{0.0, 1.0}}, torch::kFloat64));
  EXPECT_NEAR(loss.item<double>(), 3.0, 1e-9);
  loss.backward();
  EXPECT_TRUE(p.grad().isfinite().all().item<bool>());
  EXPECT_EQ(p.grad()[0][0].abs().sum().item<double>(), 0.0);
}

TEST(KeypointLoss, GradientIsFiniteAndZeroAtZeroError) {
  for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
    const auto t = torch::randn({2, 21, 3}, dtype);
    auto p = t.clone().requires_grad_(true);
    const auto loss = keypoint_loss(p, t);
    EXPECT_LT(loss.item<double>(), 2e-6);
    loss.backward();
    EXPECT_TRUE(p.grad().isfinite().all().item<bool>());
    EXPECT_EQ(p.grad().abs().max().item<double>(), 0.0);
  }
  // For contrast, the naive norm: NaN gradient at 0 (why the eps is there).
  auto q = torch::zeros({1, 3}, torch::requires_grad());
  q.square().sum(-1).sqrt().sum().backward();
  EXPECT_TRUE(q.grad().isnan().any().item<bool>());
}

TEST(KeypointLoss, EuclideanGradientMatchesFiniteDifferences) {
  torch::manual_seed(1);
  auto p = torch::randn({2, 3, 3}, torch::dtype(torch::kFloat64).requires_grad(true));
  const auto t = torch::randn({2, 3, 3}, torch::kFloat64);
  const auto vis = torch::tensor({{1.0, 0.0, 1.0}, {1.0, 1.0, 0.5}}, torch::kFloat64);
  keypoint_loss(p, t, vis).backward();
  const double h = 1e-6;
  auto flat = p.detach().view(-1);
  for (int64_t i = 0; i < flat.numel(); ++i) {
    auto plus = flat.clone(), minus = flat.clone();
    plus[i] += h;
    minus[i] -= h;
    const double numeric = (keypoint_loss(plus.view({2, 3, 3}), t, vis).item<double>() -
                            keypoint_loss(minus.view({2, 3, 3}), t, vis).item<double>()) /
                           (2 * h);
    EXPECT_NEAR(p.grad().view(-1)[i].item<double>(), numeric, 1e-7) << i;
  }
}

TEST(KeypointLoss, BadArgumentsAreErrors) {
  KeypointLossOptions o;
  o.kind = "huber";
  EXPECT_THROW(keypoint_loss(pred(), target(), {}, o), c10::Error);
  EXPECT_THROW(keypoint_loss(pred(), torch::zeros({1, 2, 2}, torch::kFloat64)), c10::Error);
  EXPECT_THROW(keypoint_loss(pred(), target(), torch::ones({2, 1})), c10::Error);
}

}  // namespace
}  // namespace zoo
