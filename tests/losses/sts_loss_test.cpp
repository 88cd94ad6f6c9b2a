// STS losses: the spec's KL example (section 2.1), batch-mean reduction, zeros in the target,
// the gradient, and MSE regression.
#include <gtest/gtest.h>

#include "losses/sts_loss.h"

namespace zoo {
namespace {

// Sparse target of y = 2.33 on r = 0..5.
torch::Tensor target_233() { return torch::tensor({{0.0, 0.0, 0.67, 0.33, 0.0, 0.0}}, torch::kDouble); }
torch::Tensor spec_logits() { return torch::tensor({{0.1, 0.2, 1.5, 1.0, -0.3, -1.0}}, torch::kDouble); }

TEST(StsLoss, KlMatchesTheSpecExample) {
  const torch::Tensor loss = sts_distribution_loss(spec_logits(), target_233());
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_NEAR(loss.item<double>(), 0.39499459, 1e-6);
  // The same in float32.
  EXPECT_NEAR(sts_distribution_loss(spec_logits().to(torch::kFloat), target_233().to(torch::kFloat)).item<double>(),
              0.39499459, 1e-6);
}

TEST(StsLoss, BatchMeanNotClassMean) {
  // Two copies of the example plus a perfect prediction: per-example KL 0.395, 0.395, 0.
  const torch::Tensor logits = torch::cat({spec_logits(), spec_logits(), torch::tensor({{0.0, 0.0, 0.0, 0.0, 0.0, 50.0}},
                                                                                       torch::kDouble)});
  const torch::Tensor target = torch::cat({target_233(), target_233(), torch::tensor({{0.0, 0.0, 0.0, 0.0, 0.0, 1.0}},
                                                                                     torch::kDouble)});
  const double loss = sts_distribution_loss(logits, target).item<double>();
  EXPECT_NEAR(loss, 2.0 * 0.39499459 / 3.0, 1e-6);
  EXPECT_FALSE(std::isnan(loss));
  // PyTorch kl_div 'batchmean' agrees.
  const torch::Tensor reference = torch::nn::functional::kl_div(
      torch::log_softmax(logits, 1), target, torch::nn::functional::KLDivFuncOptions().reduction(torch::kBatchMean));
  EXPECT_NEAR(loss, reference.item<double>(), 1e-12);
}

TEST(StsLoss, GradientIsSoftmaxMinusTargetAndFiniteWithZeros) {
  const torch::Tensor logits = spec_logits().requires_grad_();
  sts_distribution_loss(logits, target_233()).backward();
  const torch::Tensor expected = torch::softmax(spec_logits(), 1) - target_233();
  EXPECT_TRUE(torch::allclose(logits.grad(), expected, 0, 1e-12));
  EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>());
  // Batch of N: the gradient is divided by N.
  const torch::Tensor batch = torch::cat({spec_logits(), spec_logits()}).requires_grad_();
  sts_distribution_loss(batch, torch::cat({target_233(), target_233()})).backward();
  EXPECT_TRUE(torch::allclose(batch.grad()[0], expected[0] / 2.0, 0, 1e-12));
}

TEST(StsLoss, ShapeMismatchIsAnError) {
  EXPECT_THROW(sts_distribution_loss(spec_logits(), torch::ones({1, 5})), c10::Error);
  EXPECT_THROW(sts_distribution_loss(torch::ones({0, 6}), torch::ones({0, 6})), c10::Error);
  EXPECT_THROW(sts_regression_loss(torch::ones({4}), torch::ones({4, 1})), c10::Error);
}

TEST(StsLoss, RegressionIsMeanSquaredError) {
  const torch::Tensor prediction = torch::tensor({0.5, 1.0, 3.5, 3.5}, torch::kDouble).requires_grad_();
  const torch::Tensor gold = torch::tensor({0.0, 1.5, 3.0, 4.5}, torch::kDouble);
  const torch::Tensor loss = sts_regression_loss(prediction, gold);
  EXPECT_NEAR(loss.item<double>(), (0.25 + 0.25 + 0.25 + 1.0) / 4.0, 1e-12);
  loss.backward();
  // d/dp mean (p - y)^2 = 2 (p - y) / N.
  EXPECT_TRUE(torch::allclose(prediction.grad(), 2.0 * (prediction.detach() - gold) / 4.0, 0, 1e-12));
}

}  // namespace
}  // namespace zoo
