// Tai et al. sparse similarity targets: the reference table (spec section 2.1), both ends of the
// scale, SICK's 1-based scale, the expectation round trip and out-of-range scores.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "data/sts_targets.h"

namespace zoo {
namespace {

void expect_rows_near(const torch::Tensor& actual, const std::vector<std::vector<double>>& expected, double tol) {
  ASSERT_EQ(actual.dim(), 2);
  ASSERT_EQ(actual.size(0), static_cast<int64_t>(expected.size()));
  const torch::Tensor a = actual.to(torch::kDouble);
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(a.size(1), static_cast<int64_t>(expected[i].size()));
    for (size_t k = 0; k < expected[i].size(); ++k)
      EXPECT_NEAR(a[static_cast<int64_t>(i)][static_cast<int64_t>(k)].item<double>(), expected[i][k], tol)
          << "row " << i << " class " << k;
  }
}

TEST(StsTargets, ReferenceTableStsB) {
  const torch::Tensor y = torch::tensor({2.33, 0.0, 0.25, 3.0, 4.8, 5.0}, torch::kDouble);
  const torch::Tensor p = sparse_target_distribution(y, 0.0, 6);
  EXPECT_EQ(p.scalar_type(), torch::kDouble);
  expect_rows_near(p,
                   {{0, 0, 0.67, 0.33, 0, 0},
                    {1, 0, 0, 0, 0, 0},
                    {0.75, 0.25, 0, 0, 0, 0},
                    {0, 0, 0, 1, 0, 0},
                    {0, 0, 0, 0, 0.2, 0.8},
                    {0, 0, 0, 0, 0, 1}},
                   1e-12);
  // Rows sum to 1 with at most two adjacent non-zeros; the expectation gives the score back.
  EXPECT_TRUE(torch::allclose(p.sum(1), torch::ones({6}, torch::kDouble), 0, 1e-12));
  EXPECT_TRUE(((p > 0).sum(1) <= 2).all().item<bool>());
  EXPECT_TRUE(torch::allclose(expected_score(p, 0.0), y, 0, 1e-12));
}

TEST(StsTargets, FloatInputKeepsDtypeAndTopScoreNeverWritesPastTheEnd) {
  const torch::Tensor y = torch::tensor({5.0f, 0.0f, 2.33f});
  const torch::Tensor p = sparse_target_distribution(y, 0.0, 6);
  EXPECT_EQ(p.scalar_type(), torch::kFloat);
  EXPECT_EQ(p.sizes(), (std::vector<int64_t>{3, 6}));
  // 0 goes to the first class, not (through a -1 index wrap) to the last.
  expect_rows_near(p, {{0, 0, 0, 0, 0, 1}, {1, 0, 0, 0, 0, 0}, {0, 0, 0.67, 0.33, 0, 0}}, 1e-6);
  EXPECT_TRUE(torch::allclose(expected_score(p, 0.0), y, 0, 1e-6));
}

TEST(StsTargets, SickScaleOneToFive) {
  const torch::Tensor y = torch::tensor({3.6, 1.0, 5.0, 4.2}, torch::kDouble);
  const torch::Tensor p = sparse_target_distribution(y, 1.0, 5);
  expect_rows_near(p, {{0, 0, 0.4, 0.6, 0}, {1, 0, 0, 0, 0}, {0, 0, 0, 0, 1}, {0, 0, 0, 0.8, 0.2}}, 1e-12);
  EXPECT_TRUE(torch::allclose(expected_score(p, 1.0), y, 0, 1e-12));
}

TEST(StsTargets, RoundTripOverTheWholeScale) {
  const torch::Tensor y = torch::linspace(0.0, 5.0, 501, torch::kDouble);
  EXPECT_TRUE(torch::allclose(expected_score(sparse_target_distribution(y, 0.0, 6), 0.0), y, 0, 1e-12));
  EXPECT_EQ(sparse_target_distribution(torch::zeros({0}), 0.0, 6).sizes(), (std::vector<int64_t>{0, 6}));
}

TEST(StsTargets, ExpectedScoreIsDifferentiable) {
  const torch::Tensor logits = torch::tensor({{0.1, 0.2, 1.5, 1.0, -0.3, -1.0}}, torch::kDouble).requires_grad_();
  const torch::Tensor prediction = expected_score(torch::softmax(logits, 1), 0.0);
  EXPECT_NEAR(prediction.item<double>(), 2.17600088, 1e-8);  // spec 2.1: E_q[r]
  prediction.sum().backward();
  ASSERT_TRUE(logits.grad().defined());
  // d E[r] / d logit_i = q_i (r_i - E[r]): positive above the mean class, negative below.
  EXPECT_LT(logits.grad()[0][0].item<double>(), 0.0);
  EXPECT_GT(logits.grad()[0][5].item<double>(), 0.0);
}

TEST(StsTargets, OutOfRangeScoresAreErrorsNamingTheValue) {
  for (const double bad : {5.01, -0.5, std::nan("")}) {
    try {
      sparse_target_distribution(torch::tensor({1.0, bad}, torch::kDouble), 0.0, 6);
      FAIL() << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("row 1"), std::string::npos) << e.what();
      if (!std::isnan(bad)) {
        std::ostringstream value;
        value << bad;
        EXPECT_NE(std::string(e.what()).find("score " + value.str()), std::string::npos) << e.what();
      }
    }
  }
  // SICK's scale starts at 1: a 0 is out of range there.
  EXPECT_THROW(sparse_target_distribution(torch::tensor({0.0}), 1.0, 5), std::invalid_argument);
  EXPECT_THROW(sparse_target_distribution(torch::tensor({1.0}), 0.0, 1), std::invalid_argument);
  EXPECT_THROW(sparse_target_distribution(torch::tensor({{1.0}}), 0.0, 6), std::invalid_argument);
  EXPECT_THROW(sparse_target_distribution(torch::tensor({1}), 0.0, 6), std::invalid_argument);  // integer
}

}  // namespace
}  // namespace zoo
