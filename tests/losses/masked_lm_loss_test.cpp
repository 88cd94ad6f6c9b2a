// The MLM loss on the spec's worked example (§1.4) and its edge cases.
#include <gtest/gtest.h>

#include <cmath>

#include "losses/masked_lm_loss.h"

namespace zoo {
namespace {

TEST(MaskedLmLoss, SpecWorkedExample) {
  const auto logits = torch::tensor({{2.0, .5, .1, -1.0, 0.0},
                                     {0.0, 0.0, 0.0, 0.0, 0.0},
                                     {1.0, 3.0, .2, .2, .2},
                                     {.3, .1, .1, 2.5, 0.0}}, torch::kFloat64);
  const auto labels = torch::tensor({-100, 2, 1, -100}, torch::kInt64);
  const auto loss = masked_lm_loss(logits, labels);
  EXPECT_NEAR(loss.item<double>(), 0.94268775, 1e-7);  // the spec rounds to 8 digits
  EXPECT_NEAR(std::exp(loss.item<double>()), 2.5668713, 1e-6);
}

TEST(MaskedLmLoss, PaddedRowsChangeNeitherLossNorGradient) {
  const auto positions = torch::tensor({3, 8, 9, 20, 31}, torch::kInt64);
  const auto labels = torch::tensor({4, 0, 6, 2, 5}, torch::kInt64);
  const auto [padded_positions, padded_labels] = pad_masked_rows(positions, labels, 4);
  EXPECT_EQ(padded_positions.numel(), 8);
  EXPECT_TRUE(padded_positions.narrow(0, 0, 5).equal(positions));
  EXPECT_TRUE(padded_positions.narrow(0, 5, 3).equal(torch::zeros({3}, torch::kInt64)));
  EXPECT_TRUE(padded_labels.narrow(0, 5, 3).eq(kIgnoreLabel).all().item<bool>());
  EXPECT_EQ(pad_masked_rows(positions, labels, 5).first.numel(), 5);  // already a multiple
  // Logits for the padded rows: the real rows' plus 3 arbitrary ones.
  torch::manual_seed(0);
  const auto real = torch::randn({5, 7}, torch::kFloat64);
  auto logits = torch::cat({real, torch::randn({3, 7}, torch::kFloat64)}).requires_grad_();
  const auto loss = masked_lm_loss(logits, padded_labels);
  EXPECT_DOUBLE_EQ(loss.item<double>(), masked_lm_loss(real, labels).item<double>());
  loss.backward();
  EXPECT_TRUE(logits.grad().narrow(0, 5, 3).eq(0).all().item<bool>());
}

TEST(MaskedLmLoss, OnlyLabelledPositionsCount) {
  // Changing logits at an ignored position changes nothing.
  auto logits = torch::randn({2, 3, 7}, torch::kFloat64);
  const auto labels = torch::tensor({{-100, 4, -100}, {1, -100, -100}}, torch::kInt64);
  const double before = masked_lm_loss(logits, labels).item<double>();
  logits[0][0] += 10.0;
  logits[1][2] -= 3.0;
  EXPECT_DOUBLE_EQ(masked_lm_loss(logits, labels).item<double>(), before);
}

TEST(MaskedLmLoss, NoMaskedTokenGivesZeroAndFiniteGradient) {
  auto logits = torch::randn({4, 5}, torch::requires_grad());
  const auto loss = masked_lm_loss(logits, torch::full({4}, -100, torch::kInt64));
  EXPECT_EQ(loss.item<float>(), 0.0f);
  loss.backward();
  EXPECT_TRUE(logits.grad().isfinite().all().item<bool>());
  EXPECT_EQ(logits.grad().abs().sum().item<float>(), 0.0f);
}

TEST(MaskedLmLoss, GradientMatchesFiniteDifferences) {
  auto logits = torch::randn({3, 4}, torch::dtype(torch::kFloat64).requires_grad(true));
  const auto labels = torch::tensor({3, -100, 0}, torch::kInt64);
  masked_lm_loss(logits, labels).backward();
  const double h = 1e-6;
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      auto plus = logits.detach().clone(), minus = logits.detach().clone();
      plus[i][j] += h;
      minus[i][j] -= h;
      const double numeric =
          (masked_lm_loss(plus, labels).item<double>() - masked_lm_loss(minus, labels).item<double>()) / (2 * h);
      EXPECT_NEAR(logits.grad()[i][j].item<double>(), numeric, 1e-7);
    }
}

TEST(MaskedLmLoss, OutOfRangeLabelIsAnError) {
  EXPECT_THROW(masked_lm_loss(torch::zeros({2, 5}), torch::tensor({1, 5}, torch::kInt64)), c10::Error);
  EXPECT_THROW(masked_lm_loss(torch::zeros({2, 5}), torch::tensor({-1, 0}, torch::kInt64)), c10::Error);
}

}  // namespace
}  // namespace zoo
