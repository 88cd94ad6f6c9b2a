// Learning-rate schedules at chosen steps (hand-computed), and weight-decay grouping.
#include <gtest/gtest.h>

#include <cmath>

#include "train/optim.h"

namespace zoo {
namespace {

ScheduleOptions schedule(const std::string& name, int64_t warmup) {
  ScheduleOptions s;
  s.name = name;
  s.warmup_steps = warmup;
  return s;
}

TEST(Schedule, ConstantWithWarmup) {
  const auto s = schedule("constant", 4);
  EXPECT_DOUBLE_EQ(learning_rate(s, 1.0, 0, 100), 0.25);
  EXPECT_DOUBLE_EQ(learning_rate(s, 1.0, 3, 100), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate(s, 1.0, 50, 100), 1.0);
}

TEST(Schedule, LinearDecayAfterWarmup) {
  const auto s = schedule("linear", 10);
  EXPECT_DOUBLE_EQ(learning_rate(s, 2.0, 4, 110), 1.0);     // 2 * 5/10
  EXPECT_DOUBLE_EQ(learning_rate(s, 2.0, 10, 110), 2.0);    // decay starts
  EXPECT_DOUBLE_EQ(learning_rate(s, 2.0, 60, 110), 1.0);    // half way: 2 * (1 - 50/100)
  EXPECT_DOUBLE_EQ(learning_rate(s, 2.0, 110, 110), 0.0);
  auto floor = s;
  floor.min_lr_ratio = 0.1;
  EXPECT_DOUBLE_EQ(learning_rate(floor, 2.0, 60, 110), 2.0 * (0.1 + 0.9 * 0.5));
}

TEST(Schedule, WarmupRatioIsAShareOfTheHorizon) {
  auto s = schedule("linear", 0);
  s.warmup_ratio = 0.1;  // 110 steps: warmup ceil(11.0) = 11 steps
  EXPECT_DOUBLE_EQ(learning_rate(s, 2.0, 0, 110), 2.0 / 11);
  EXPECT_DOUBLE_EQ(learning_rate(s, 2.0, 10, 110), 2.0);
  EXPECT_DOUBLE_EQ(learning_rate(s, 2.0, 11, 110), 2.0);        // decay starts
  EXPECT_DOUBLE_EQ(learning_rate(s, 2.0, 60, 110), 2.0 * (1 - 49.0 / 99));
  s.total_steps = 20;  // the ratio applies to the schedule's horizon: 2 steps
  EXPECT_DOUBLE_EQ(learning_rate(s, 2.0, 0, 110), 1.0);
}

TEST(Schedule, CosineDecay) {
  const auto s = schedule("cosine", 0);
  EXPECT_DOUBLE_EQ(learning_rate(s, 1.0, 0, 100), 1.0);
  EXPECT_NEAR(learning_rate(s, 1.0, 25, 100), 0.5 * (1 + std::cos(M_PI / 4)), 1e-15);
  EXPECT_NEAR(learning_rate(s, 1.0, 50, 100), 0.5, 1e-15);
  EXPECT_NEAR(learning_rate(s, 1.0, 100, 100), 0.0, 1e-15);
  auto horizon = s;
  horizon.total_steps = 200;  // a schedule horizon independent of train.max_steps
  EXPECT_NEAR(learning_rate(horizon, 1.0, 100, 100), 0.5, 1e-15);
}

TEST(Schedule, StepDecay) {
  auto s = schedule("step", 0);
  s.step_size = 30;
  s.gamma = 0.5;
  EXPECT_DOUBLE_EQ(learning_rate(s, 1.0, 29, 100), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate(s, 1.0, 30, 100), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(s, 1.0, 95, 100), 0.125);
}

TEST(Optimizer, NoWeightDecayOnBiasesAndNormWeights) {
  torch::nn::Sequential net(torch::nn::Linear(3, 4), torch::nn::LayerNorm(torch::nn::LayerNormOptions({4})));
  OptimOptions o;
  o.weight_decay = 0.1;
  auto opt = make_optimizer(o, *net);
  ASSERT_EQ(opt->param_groups().size(), 2u);
  const auto& decay = static_cast<const torch::optim::AdamWOptions&>(opt->param_groups()[0].options());
  const auto& none = static_cast<const torch::optim::AdamWOptions&>(opt->param_groups()[1].options());
  EXPECT_EQ(opt->param_groups()[0].params().size(), 1u);  // the Linear weight
  EXPECT_EQ(opt->param_groups()[1].params().size(), 3u);  // bias, LN weight, LN bias
  EXPECT_DOUBLE_EQ(decay.weight_decay(), 0.1);
  EXPECT_DOUBLE_EQ(none.weight_decay(), 0.0);
}

}  // namespace
}  // namespace zoo
