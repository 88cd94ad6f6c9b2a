// Matcher: the examples of spec §5.4 (exact), including ties restored by the low-quality rule,
// the threshold boundaries, an image without boxes and the zero-IoU guard.
#include <gtest/gtest.h>

#include <vector>

#include "models/detection/box_ops.h"
#include "models/detection/matcher.h"
#include "tests/models/box_rows.h"

namespace zoo {
namespace {

std::vector<int64_t> match(const Matcher& m, std::vector<float> q, int64_t rows) {
  const auto r = m(torch::tensor(q).view({rows, -1}));
  EXPECT_EQ(r.scalar_type(), torch::kLong);
  return {r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()};
}

Matcher without_low_quality() {
  MatcherOptions o;
  o.allow_low_quality_matches = false;
  return Matcher(o);
}

using V = std::vector<int64_t>;

TEST(DetectionMatcher, LowQualityMatchRestoresTheAnchorsOwnBestGt) {
  // Anchor 4 is gt 1's best (0.65) but goes back to gt 0 (0.66 > 0.65): gt 1 ends without a
  // positive. Anchor 3 (exactly 0.3) is between the thresholds.
  const std::vector<float> q = {0.9f, 0.5f, 0.2f, 0.1f, 0.66f, 0.1f, 0.6f, 0.25f, 0.3f, 0.65f};
  EXPECT_EQ(match(Matcher(), q, 2), (V{0, -2, -1, -2, 0}));
  EXPECT_EQ(match(without_low_quality(), q, 2), (V{0, -2, -1, -2, -2}));
}

TEST(DetectionMatcher, TiesAreAllRestored) {
  const std::vector<float> q = {0.4f, 0.4f, 0.1f, 0.2f, 0.5f, 0.05f};
  EXPECT_EQ(match(Matcher(), q, 2), (V{0, 1, -1}));
  EXPECT_EQ(match(without_low_quality(), q, 2), (V{-2, -2, -1}));
}

TEST(DetectionMatcher, ThresholdBoundaries) {
  const std::vector<float> q = {0.7f, 0.3f, 0.2999f, 0.6999f};  // >= high positive, >= low ignored
  EXPECT_EQ(match(without_low_quality(), q, 1), (V{0, -2, -1, -2}));
  EXPECT_EQ(match(Matcher(), q, 1), (V{0, -2, -1, -2}));
  EXPECT_THROW(Matcher(MatcherOptions{0.3, 0.7, true, true}), c10::Error);
}

TEST(DetectionMatcher, RealBoxes) {
  const auto anchors =
      rows({0, 0, 10, 10, 5, 5, 15, 15, 0, 0, 20, 20, 30, 30, 40, 40, 0, 0, 9, 10});
  const auto gts = rows({0, 0, 10, 10, 28, 28, 38, 38});
  const auto r = Matcher()(box_iou(gts, anchors));
  EXPECT_TRUE(torch::equal(r, torch::tensor({0, -1, -1, 1, 0}, torch::kLong)));
  const auto r2 = without_low_quality()(box_iou(gts, anchors));
  EXPECT_TRUE(torch::equal(r2, torch::tensor({0, -1, -1, -2, 0}, torch::kLong)));
}

TEST(DetectionMatcher, ZeroIouGtDoesNotMakeEveryAnchorPositive) {
  // gt 1 overlaps no anchor. torchvision: every zero-IoU anchor "ties" for gt 1's best and is
  // restored to its argmax gt 0 -> [0, 0, 0]. The guard skips gt 1 -> [0, -1, -1].
  const auto anchors = rows({0, 0, 10, 10, 20, 20, 30, 30, 40, 40, 50, 50});
  const auto gts = rows({0, 0, 10, 10, 100, 100, 110, 110});
  const auto q = box_iou(gts, anchors);
  EXPECT_TRUE(torch::equal(Matcher()(q), torch::tensor({0, -1, -1}, torch::kLong)));
  MatcherOptions tv;
  tv.zero_iou_guard = false;
  EXPECT_TRUE(torch::equal(Matcher(tv)(q), torch::tensor({0, 0, 0}, torch::kLong)));
}

TEST(DetectionMatcher, NoGtIsAllBackgroundAndNoAnchorsIsEmpty) {
  EXPECT_TRUE(torch::equal(Matcher()(torch::zeros({0, 4})),
                           torch::full({4}, Matcher::kBelowLowThreshold, torch::kLong)));
  EXPECT_EQ(Matcher()(torch::zeros({3, 0})).numel(), 0);
}

}  // namespace
}  // namespace zoo
