// Pearson / Spearman / average ranks: the spec's worked example (section 2.2), ties, and the
// undefined cases.
#include <gtest/gtest.h>

#include <cmath>

#include "train/metrics.h"

namespace zoo {
namespace {

const std::vector<double> kGold = {0, 1.5, 3, 4.5, 5, 2.33};
const std::vector<double> kPred = {0.5, 1, 3.5, 3.5, 4.8, 2};

TEST(Metrics, SpecExample) {
  EXPECT_NEAR(pearson(kGold, kPred), 0.95163225, 1e-8);
  EXPECT_NEAR(spearman(kGold, kPred), 0.98561076, 1e-8);
  EXPECT_EQ(average_ranks(kPred), (std::vector<double>{1, 2, 4.5, 4.5, 6, 3}));
  EXPECT_EQ(average_ranks(kGold), (std::vector<double>{1, 2, 4, 5, 6, 3}));
  EXPECT_NEAR(pearson(kPred, kGold), pearson(kGold, kPred), 1e-15);  // symmetric
}

TEST(Metrics, RanksWithTiesAndNegatives) {
  EXPECT_EQ(average_ranks({3, 1, 3}), (std::vector<double>{2.5, 1, 2.5}));
  EXPECT_EQ(average_ranks({2, 2, 2, 2}), (std::vector<double>{2.5, 2.5, 2.5, 2.5}));
  EXPECT_EQ(average_ranks({-1, 7, -1, 0, 7, 7}), (std::vector<double>{1.5, 5, 1.5, 3, 5, 5}));
  EXPECT_TRUE(average_ranks({}).empty());
  EXPECT_THROW(average_ranks({1, std::nan("")}), std::invalid_argument);
}

TEST(Metrics, PerfectAndInverseRelations) {
  const std::vector<double> x = {1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(pearson(x, {3, 5, 7, 9, 11}), 1.0);
  EXPECT_DOUBLE_EQ(pearson(x, {-1, -2, -3, -4, -5}), -1.0);
  // Monotone but not linear: Spearman 1, Pearson below 1.
  const std::vector<double> cubes = {1, 8, 27, 64, 125};
  EXPECT_DOUBLE_EQ(spearman(x, cubes), 1.0);
  EXPECT_LT(pearson(x, cubes), 1.0);
}

TEST(Metrics, UndefinedCasesAreNaN) {
  EXPECT_TRUE(std::isnan(pearson({1, 2, 3}, {0.1, 0.1, 0.1})));  // constant (mean of 0.1s is not 0.1)
  EXPECT_TRUE(std::isnan(pearson({4, 4}, {1, 2})));
  EXPECT_TRUE(std::isnan(spearman({1, 2, 3}, {2, 2, 2})));
  EXPECT_TRUE(std::isnan(pearson({1}, {2})));
  EXPECT_TRUE(std::isnan(pearson({}, {})));
  EXPECT_TRUE(std::isnan(spearman({1}, {2})));
  EXPECT_TRUE(std::isnan(pearson({1, 2, std::nan("")}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(spearman({1, 2, 3}, {1, std::nan(""), 3})));
}

TEST(Metrics, SizeMismatchIsAnError) {
  EXPECT_THROW(pearson({1, 2, 3}, {1, 2}), std::invalid_argument);
  EXPECT_THROW(spearman({1, 2}, {1, 2, 3}), std::invalid_argument);
}

}  // namespace
}  // namespace zoo
