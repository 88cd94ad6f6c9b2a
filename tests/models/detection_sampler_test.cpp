// Balanced sampler: quotas (positives capped at 128, negatives fill up to 256), ignored anchors
// never sampled, reproducible under torch::manual_seed, and the checked fixed-sample API.
#include <gtest/gtest.h>

#include <vector>

#include "models/detection/balanced_sampler.h"

namespace zoo {
namespace {

// n_pos ones, n_neg zeros, n_ign minus ones, shuffled with a fixed seed.
torch::Tensor labels(int64_t n_pos, int64_t n_neg, int64_t n_ign) {
  const auto l = torch::cat({torch::ones({n_pos}), torch::zeros({n_neg}), -torch::ones({n_ign})});
  torch::manual_seed(42);
  return l.index({torch::randperm(l.numel())});
}

void expect_valid(const SampledIndices& s, const torch::Tensor& l, int64_t n_pos, int64_t n_neg) {
  ASSERT_EQ(s.positive.numel(), n_pos);
  ASSERT_EQ(s.negative.numel(), n_neg);
  EXPECT_TRUE((l.index({s.positive}) == 1).all().item<bool>());
  EXPECT_TRUE((l.index({s.negative}) == 0).all().item<bool>());
  for (const auto& idx : {s.positive, s.negative}) {
    EXPECT_EQ(idx.scalar_type(), torch::kLong);
    EXPECT_TRUE(torch::equal(idx, std::get<0>(idx.sort())));  // ascending
    if (idx.numel() > 1) {
      EXPECT_TRUE((idx.slice(0, 1) > idx.slice(0, 0, -1)).all().item<bool>());
    }
  }
}

TEST(DetectionSampler, Quotas) {
  const BalancedPositiveNegativeSampler sampler;  // 256 per image, half positive
  const auto many = labels(200, 1000, 50), few_pos = labels(5, 1000, 50), few = labels(3, 20, 500);
  const auto s = sampler({many, few_pos, few});
  ASSERT_EQ(s.size(), 3u);
  expect_valid(s[0], many, 128, 128);
  expect_valid(s[1], few_pos, 5, 251);  // negatives fill the batch
  expect_valid(s[2], few, 3, 20);       // everything there is; ignored never sampled
  // int(batch * fraction) truncates: 10 * 0.25 = 2.5 -> 2.
  const auto t = BalancedPositiveNegativeSampler(10, 0.25)({many});
  expect_valid(t[0], many, 2, 8);
}

TEST(DetectionSampler, ReproducibleUnderASeed) {
  const BalancedPositiveNegativeSampler sampler;
  const auto l = labels(300, 3000, 0);
  torch::manual_seed(7);
  const auto a = sampler({l});
  torch::manual_seed(7);
  const auto b = sampler({l});
  torch::manual_seed(8);
  const auto c = sampler({l});
  EXPECT_TRUE(torch::equal(a[0].positive, b[0].positive));
  EXPECT_TRUE(torch::equal(a[0].negative, b[0].negative));
  EXPECT_FALSE(torch::equal(a[0].negative, c[0].negative));
}

TEST(DetectionSampler, FixedSampleIsCheckedAndSorted) {
  const auto l = torch::tensor({1.0f, 0.0f, -1.0f, 1.0f, 0.0f});
  const auto s = fixed_sample(l, torch::tensor({3, 0}), torch::tensor({4}));
  EXPECT_TRUE(torch::equal(s.positive, torch::tensor({0, 3}, torch::kLong)));
  EXPECT_TRUE(torch::equal(s.negative, torch::tensor({4}, torch::kLong)));
  EXPECT_EQ(fixed_sample(l, torch::zeros({0}, torch::kLong), torch::zeros({0}, torch::kLong))
                .positive.numel(),
            0);
  EXPECT_THROW(fixed_sample(l, torch::tensor({1}), torch::tensor({4})), c10::Error);  // not 1
  EXPECT_THROW(fixed_sample(l, torch::tensor({0}), torch::tensor({2})), c10::Error);  // ignored
  EXPECT_THROW(fixed_sample(l, torch::tensor({0, 0}), torch::tensor({4})), c10::Error);
  EXPECT_THROW(fixed_sample(l, torch::tensor({5}), torch::tensor({4})), c10::Error);
}

}  // namespace
}  // namespace zoo
