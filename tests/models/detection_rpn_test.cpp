// RPN head and RegionProposalNetwork on hand-computed cases: torchvision's parameter names and
// init, the flattening order, the end-to-end example of spec §5.8 (labels, targets, sample,
// eval proposals), and proposal filtering (small boxes, score threshold, NMS per level).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "models/detection/rpn.h"
#include "tests/models/box_rows.h"

namespace zoo {
namespace {

// spec §5.8: 64 x 64 image, one 4 x 4 map (stride 16), one anchor (size 32, ratio 1) per cell.
RpnOptions tiny_options() {
  RpnOptions o;
  o.in_channels = 4;
  o.anchors.sizes = {{32.0}};
  o.anchors.aspect_ratios = {{1.0}};
  return o;
}

TEST(DetectionRpnHead, TorchvisionNamesShapesAndInit) {
  torch::manual_seed(0);
  RPNHead head(64, 9);
  std::set<std::string> names;
  for (const auto& p : head->named_parameters()) names.insert(p.key());
  EXPECT_EQ(names,
            (std::set<std::string>{"conv.0.0.weight", "conv.0.0.bias", "cls_logits.weight",
                                   "cls_logits.bias", "bbox_pred.weight", "bbox_pred.bias"}));
  const auto params = head->named_parameters();
  EXPECT_EQ(params["conv.0.0.weight"].sizes(), (std::vector<int64_t>{64, 64, 3, 3}));
  EXPECT_EQ(params["cls_logits.weight"].sizes(), (std::vector<int64_t>{9, 64, 1, 1}));
  EXPECT_EQ(params["bbox_pred.weight"].sizes(), (std::vector<int64_t>{36, 64, 1, 1}));
  EXPECT_NEAR(params["conv.0.0.weight"].std().item<double>(), 0.01, 0.0005);
  EXPECT_EQ(params["conv.0.0.bias"].abs().sum().item<double>(), 0.0);
  const auto [logits, deltas] = head->forward({torch::randn({2, 64, 5, 7})});
  EXPECT_EQ(logits[0].sizes(), (std::vector<int64_t>{2, 9, 5, 7}));
  EXPECT_EQ(deltas[0].sizes(), (std::vector<int64_t>{2, 36, 5, 7}));
  EXPECT_EQ(RPNHead(8, 3, 2)->named_parameters().size(), 8u);  // conv.1.0.* as well
}

TEST(DetectionRpn, FlatteningPutsAnchorsInnermost) {
  // 1 image, A = 2, H = 2, W = 3: flat index = (y * W + x) * A + a.
  const auto logits = torch::arange(12, torch::kFloat).view({1, 2, 2, 3});  // value a*6 + y*3 + x
  const auto deltas = torch::arange(48, torch::kFloat).view({1, 8, 2, 3});  // (a*4 + c)*6 + y*3 + x
  const auto [obj, del] = concat_box_prediction_layers({logits}, {deltas});
  ASSERT_EQ(obj.sizes(), (std::vector<int64_t>{12}));
  ASSERT_EQ(del.sizes(), (std::vector<int64_t>{12, 4}));
  const int64_t y = 1, x = 2, a = 1, flat = (y * 3 + x) * 2 + a;
  EXPECT_EQ(obj[flat].item<float>(), a * 6 + y * 3 + x);
  for (int64_t c = 0; c < 4; ++c)
    EXPECT_EQ(del[flat][c].item<float>(), (a * 4 + c) * 6 + y * 3 + x);
}

TEST(DetectionRpn, EndToEndExampleOfTheSpec) {
  RegionProposalNetwork rpn(tiny_options());
  {
    torch::NoGradGuard no_grad;
    for (auto& p : rpn->parameters()) p.zero_();
  }
  rpn->train();
  const auto out = rpn->forward({64, 64}, {{64, 64}}, {torch::zeros({1, 4, 4, 4})});
  ASSERT_EQ(out.anchors.size(0), 16);
  EXPECT_TRUE(torch::equal(out.anchors.narrow(0, 0, 2), rows({-16, -16, 16, 16, 0, -16, 32, 16})));
  EXPECT_EQ(out.num_anchors_per_level, (std::vector<int64_t>{16}));
  EXPECT_EQ(out.objectness.sizes(), (std::vector<int64_t>{16}));
  EXPECT_TRUE(out.objectness.requires_grad());

  const auto t = rpn->training_targets(out, {rows({4, 4, 36, 30})});
  auto expected_labels = torch::zeros({16});
  expected_labels[5] = 1;   // IoU 0.6454 < 0.7: positive only through the low-quality rule
  expected_labels[6] = -1;  // IoU 0.3892: ignored
  EXPECT_TRUE(torch::equal(t.labels, expected_labels));
  EXPECT_EQ(t.matched_idxs[5].item<int64_t>(), 0);
  EXPECT_EQ(t.matched_idxs[6].item<int64_t>(), Matcher::kBetweenThresholds);
  EXPECT_TRUE(torch::allclose(t.regression_targets[5],
                              torch::tensor({0.125f, 0.03125f, 0.0f, -0.20763937f}), 0, 1e-6));
  // Below both quotas: everything labelled is sampled (deterministically).
  EXPECT_TRUE(torch::equal(t.sampled_positive, torch::tensor({5}, torch::kLong)));
  EXPECT_EQ(t.sampled_negative.numel(), 14);

  // Eval proposals with logits i - 8 for anchor i, zero deltas, post-NMS 5.
  RpnOptions o = tiny_options();
  o.post_nms_top_n_test = 5;
  RegionProposalNetwork eval_rpn(o);
  eval_rpn->eval();
  const auto logits = (torch::arange(16, torch::kFloat) - 8).view({1, 16});
  const auto [boxes, scores] =
      eval_rpn->filter_proposals(out.anchors.unsqueeze(0), logits, {{64, 64}}, {16});
  EXPECT_TRUE(torch::equal(boxes[0], rows({32, 32, 64, 64, 16, 32, 48, 64, 0,  32,
                                           32, 64, 0,  32, 16, 64, 32, 16, 64, 48})));
  EXPECT_TRUE(
      torch::allclose(scores[0], torch::sigmoid(torch::tensor({7.0f, 6.0f, 5.0f, 4.0f, 3.0f}))));
}

TEST(DetectionRpn, FilterDropsSmallAndLowScoringBoxesAndSuppressesPerLevel) {
  RpnOptions o = tiny_options();
  o.score_thresh = 0.5;
  RegionProposalNetwork rpn(o);
  rpn->eval();
  // Level 0: a box, a 0.0005-wide box, a box left of the image (clipped to zero width), a
  // duplicate of the first with a lower score, a low-scoring box. Level 1: the same first box.
  const auto boxes = rows({0, 0, 10, 10, 5,  5,  5.0005f, 20, -30, 0, -20, 10,
                           0, 0, 10, 10, 20, 20, 30,      30, 0,   0, 10,  10})
                         .unsqueeze(0);
  const auto logits = torch::tensor({3.0f, 4.0f, 5.0f, 2.0f, -1.0f, 1.0f}).view({1, 6});
  const auto [kept, scores] = rpn->filter_proposals(boxes, logits, {{40, 40}}, {5, 1});
  // Survivors: box 0 (level 0) and its copy on level 1; sorted by score.
  EXPECT_TRUE(torch::equal(kept[0], rows({0, 0, 10, 10, 0, 0, 10, 10})));
  EXPECT_TRUE(torch::allclose(scores[0], torch::sigmoid(torch::tensor({3.0f, 1.0f}))));
}

TEST(DetectionRpn, BackgroundImageAndBadBoxes) {
  RegionProposalNetwork rpn(tiny_options());
  rpn->train();
  const auto out = rpn->forward({64, 64}, {{64, 64}, {48, 64}}, {torch::randn({2, 4, 4, 4})});
  EXPECT_EQ(out.boxes.size(), 2u);
  EXPECT_LE(out.boxes[1].select(1, 3).max().item<float>(), 48.0f);  // clipped to its own height
  const auto t = rpn->training_targets(out, {rows({4, 4, 36, 30}), torch::zeros({0, 4})});
  EXPECT_TRUE(torch::equal(t.labels.narrow(0, 16, 16), torch::zeros({16})));
  EXPECT_TRUE((t.matched_idxs.narrow(0, 16, 16) == Matcher::kBelowLowThreshold).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(t.regression_targets).all().item<bool>());
  EXPECT_EQ(t.sampled_negative.numel(), 14 + 16);
  EXPECT_THROW(rpn->training_targets(out, {rows({4, 4, 4, 30}), torch::zeros({0, 4})}), c10::Error);
  EXPECT_THROW(rpn->training_targets(out, {rows({4, 4, 36, 30})}), c10::Error);  // one set for two
}

}  // namespace
}  // namespace zoo
