// RPN losses: the smooth-L1 values and the end-to-end numbers of spec §5.6 / §5.8, the
// normaliser (number of sampled anchors, not positives), label validation, the empty sample,
// and parity with torchvision's compute_loss on tests/fixtures/rpn_golden.json.
#include "losses/rpn_loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace zoo {
namespace {

torch::Tensor idx(std::vector<int64_t> v) { return torch::tensor(v, torch::kLong); }

TEST(RpnLoss, SmoothL1SumOverPositivesDividedBySampled) {
  // Coordinates (0, 0.05, 1/9, 0.2, 1, -0.5, 0, 0) -> smooth_l1 (beta 1/9) sum 1.6001389; two
  // positives + two negatives sampled -> / 4. A third, unsampled row must not count.
  const auto deltas =
      torch::tensor({0.0f, 0.05f, 1.0f / 9.0f, 0.2f, 1.0f, -0.5f, 0.0f, 0.0f, 0.0f, 0.0f,
                     0.0f, 0.0f,  0.0f,        0.0f, 0.0f, 0.0f,  9.0f, 9.0f, 9.0f, 9.0f})
          .view({5, 4});
  const auto targets = torch::zeros({5, 4});
  const auto labels = torch::tensor({1.0f, 1.0f, 0.0f, 0.0f, -1.0f});
  const auto logits = torch::zeros({5});
  const auto l = rpn_loss(logits, deltas, labels, targets, idx({0, 1}), idx({2, 3}));
  EXPECT_NEAR(l.box_reg.item<double>(), 1.6001389 / 4.0, 1e-7);
  EXPECT_NEAR(l.objectness.item<double>(), std::log(2.0), 1e-7);
  // beta = 1: (0 + 0.00125 + 0.0061728 + 0.02 + 0.5 + 0.125) / 4.
  const auto l1 = rpn_loss(logits, deltas, labels, targets, idx({0, 1}), idx({2, 3}), 1.0);
  EXPECT_NEAR(l1.box_reg.item<double>(), 0.6524228 / 4.0, 1e-7);
}

TEST(RpnLoss, EndToEndNumbersOfTheSpec) {
  // spec §5.8: zero head, one positive (anchor 5) with target (0.125, 0.03125, 0, -0.20763937),
  // 14 negatives, one ignored anchor.
  auto targets = torch::zeros({16, 4});
  targets[5] = torch::tensor({0.125f, 0.03125f, 0.0f, -0.20763937f});
  auto labels = torch::zeros({16});
  labels[5] = 1;
  labels[6] = -1;
  std::vector<int64_t> neg;
  for (int64_t i = 0; i < 16; ++i)
    if (i != 5 && i != 6) neg.push_back(i);
  const auto l =
      rpn_loss(torch::zeros({16}), torch::zeros({16, 4}), labels, targets, idx({5}), idx(neg));
  EXPECT_NEAR(l.objectness.item<double>(), 0.69314730, 1e-6);
  EXPECT_NEAR(l.box_reg.item<double>(), 0.01506152, 1e-6);
}

TEST(RpnLoss, GradientOnlyReachesSampledAnchors) {
  const auto logits = torch::randn({6}).requires_grad_();
  const auto deltas = torch::randn({6, 4}).requires_grad_();
  const auto labels = torch::tensor({1.0f, 0.0f, 0.0f, -1.0f, 1.0f, 0.0f});
  const auto l = rpn_loss(logits, deltas, labels, torch::zeros({6, 4}), idx({0}), idx({1, 2}));
  (l.objectness + l.box_reg).backward();
  const auto g = logits.grad();
  EXPECT_NE(g[0].item<float>(), 0.0f);
  EXPECT_EQ(g.narrow(0, 3, 3).abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(deltas.grad().narrow(0, 1, 5).abs().sum().item<float>(), 0.0f);  // only positives
}

TEST(RpnLoss, RejectsMislabelledSamplesAndHandlesAnEmptySample) {
  const auto labels = torch::tensor({1.0f, 0.0f, -1.0f});
  const auto logits = torch::zeros({3}).requires_grad_();
  const auto deltas = torch::zeros({3, 4}).requires_grad_();
  const auto targets = torch::zeros({3, 4});
  EXPECT_THROW(rpn_loss(logits, deltas, labels, targets, idx({1}), idx({})), c10::Error);
  EXPECT_THROW(rpn_loss(logits, deltas, labels, targets, idx({0}), idx({2})), c10::Error);
  EXPECT_THROW(rpn_loss(logits, deltas.narrow(0, 0, 2), labels, targets, idx({0}), idx({})),
               c10::Error);
  const auto l = rpn_loss(logits, deltas, labels, targets, idx({}), idx({}));
  EXPECT_EQ(l.objectness.item<float>(), 0.0f);
  EXPECT_EQ(l.box_reg.item<float>(), 0.0f);
  (l.objectness + l.box_reg).backward();
  EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>());
}

TEST(RpnLoss, MatchesTorchvisionComputeLoss) {
  // The sampled rows of each golden case: positives first, then negatives, as compute_loss
  // orders them; torchvision's losses on the full batch.
  std::ifstream in(std::string(ZOO_SOURCE_DIR) + "/tests/fixtures/rpn_golden.json");
  ASSERT_TRUE(in.good());
  const auto doc = nlohmann::json::parse(in);
  const auto floats = [](const nlohmann::json& v) {
    return torch::tensor(v.get<std::vector<double>>(), torch::kDouble).to(torch::kFloat);
  };
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto& s = c["sampled"];
    const int64_t p = s["num_positive"];
    const auto logits = floats(s["objectness"]);
    const int64_t n = logits.numel();
    const auto deltas = floats(s["deltas"]).view({n, 4});
    const auto labels = floats(s["labels"]);
    auto targets = torch::zeros({n, 4});
    targets.narrow(0, 0, p).copy_(floats(s["regression_targets"]).view({p, 4}));
    const auto all = torch::arange(n, torch::kLong);
    const auto l =
        rpn_loss(logits, deltas, labels, targets, all.narrow(0, 0, p), all.narrow(0, p, n - p));
    EXPECT_NEAR(l.objectness.item<double>(), c["loss_objectness"].get<double>(), 1e-6);
    EXPECT_NEAR(l.box_reg.item<double>(), c["loss_rpn_box_reg"].get<double>(), 1e-6);
  }
}

}  // namespace
}  // namespace zoo
