// Box utilities: IoU, clipping, small-box removal and the hand-written NMS (torchvision's CPU
// kernel semantics: stable score order, IoU > threshold suppresses), plus NMS speed at the
// RPN's 2000 boxes.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "models/detection/box_ops.h"

namespace zoo {
namespace {

std::vector<int64_t> to_vec(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU, torch::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

torch::Tensor boxes(std::vector<float> v) { return torch::tensor(v).view({-1, 4}); }

// O(n^2) reference written with tensor ops: visit by score, drop everything above the threshold.
std::vector<int64_t> reference_nms(const torch::Tensor& b, const torch::Tensor& s, double thr) {
  const auto order = std::get<1>(s.sort(/*stable=*/true, 0, /*descending=*/true));
  const auto iou = box_iou(b, b);
  std::vector<bool> dead(b.size(0), false);
  std::vector<int64_t> keep;
  for (int64_t i : to_vec(order)) {
    if (dead[i]) continue;
    keep.push_back(i);
    const auto over = to_vec(torch::nonzero(iou[i] > thr).squeeze(1));
    for (int64_t j : over) dead[j] = true;
  }
  return keep;
}

TEST(DetectionBoxOps, IouOfTheSpecExample) {
  // spec §5.4 "Real boxes": gts x anchors.
  const auto anchors =
      boxes({0, 0, 10, 10, 5, 5, 15, 15, 0, 0, 20, 20, 30, 30, 40, 40, 0, 0, 9, 10});
  const auto gts = boxes({0, 0, 10, 10, 28, 28, 38, 38});
  const auto iou = box_iou(gts, anchors);
  ASSERT_EQ(iou.sizes(), (std::vector<int64_t>{2, 5}));
  const auto expected = torch::tensor(std::vector<double>{1.0, 1.0 / 7.0, 0.25, 0.0, 0.9, 0.0, 0.0,
                                                          0.0, 8.0 / 17.0, 0.0},
                                      torch::kDouble)
                            .view({2, 5});
  EXPECT_TRUE(torch::allclose(iou.to(torch::kDouble), expected, 0, 1e-6));
  EXPECT_TRUE(torch::allclose(box_area(gts), torch::tensor({100.0f, 100.0f})));
}

TEST(DetectionBoxOps, ClipAndRemoveSmall) {
  // Image 32 high, 64 wide: x to [0, 64], y to [0, 32].
  const auto clipped = clip_boxes_to_image(boxes({-5, -5, 70, 40, 3, 4, 5, 6}), 32, 64);
  EXPECT_TRUE(torch::equal(clipped, boxes({0, 0, 64, 32, 3, 4, 5, 6})));
  // [N, T, 4] batches keep their shape.
  EXPECT_EQ(clip_boxes_to_image(torch::zeros({2, 3, 4}), 1, 1).sizes(),
            (std::vector<int64_t>{2, 3, 4}));
  // Width or height below min_size goes; exactly min_size stays.
  const auto small = boxes({0, 0, 1e-3f, 1, 0, 0, 0.0009f, 1, 0, 0, 1, 1e-3f, 0, 0, 1, 0.0005f});
  EXPECT_EQ(to_vec(remove_small_boxes(small, 1e-3)), (std::vector<int64_t>{0, 2}));
}

TEST(DetectionBoxOps, NmsThresholdIsStrict) {
  const auto b = boxes({0, 0, 10, 10, 0, 0, 10, 5});  // IoU exactly 0.5
  const auto s = torch::tensor({0.9f, 0.8f});
  EXPECT_EQ(to_vec(nms(b, s, 0.5)), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(to_vec(nms(b, s, 0.49)), (std::vector<int64_t>{0}));
}

TEST(DetectionBoxOps, NmsIdenticalBoxesAndTies) {
  // Identical boxes suppress each other; of the two 0.9s the first in input order wins.
  EXPECT_EQ(to_vec(nms(boxes({0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10}),
                       torch::tensor({0.5f, 0.9f, 0.9f}), 0.7)),
            (std::vector<int64_t>{1}));
  // Same as torchvision: scores (0.9, 0.8, 0.7, 0.7, 0.7), box 2 and 4 duplicate box 0.
  const auto b = boxes({0, 0, 10, 10, 0, 0, 10, 5, 0, 0, 10, 10, 20, 20, 30, 30, 0, 0, 10, 10});
  const auto s = torch::tensor({0.9f, 0.8f, 0.7f, 0.7f, 0.7f});
  EXPECT_EQ(to_vec(nms(b, s, 0.5)), (std::vector<int64_t>{0, 1, 3}));
  // Categories: box 2 is alone in category 1, so it survives; output stays by score.
  EXPECT_EQ(to_vec(batched_nms(b, s, torch::tensor({0, 0, 1, 1, 0}), 0.5)),
            (std::vector<int64_t>{0, 1, 2, 3}));
  // Many equal scores, no overlap: the stable order is the input order.
  const int64_t n = 300;
  const auto x = torch::arange(n, torch::kFloat) * 20;
  const auto far = torch::stack({x, torch::zeros({n}), x + 10, torch::full({n}, 10.0f)}, 1);
  EXPECT_EQ(to_vec(nms(far, torch::ones({n}), 0.5)), to_vec(torch::arange(n)));
}

TEST(DetectionBoxOps, NmsEdgeCases) {
  EXPECT_EQ(nms(torch::zeros({0, 4}), torch::zeros({0}), 0.5).numel(), 0);
  EXPECT_EQ(nms(torch::zeros({0, 4}), torch::zeros({0}), 0.5).scalar_type(), torch::kLong);
  // Empty boxes have IoU 0/0 = NaN with each other, which never suppresses (as torchvision).
  EXPECT_EQ(to_vec(nms(boxes({0, 0, 0, 10, 0, 0, 0, 10}), torch::tensor({0.5f, 0.9f}), 0.7)),
            (std::vector<int64_t>{1, 0}));
  // Double precision goes through the double kernel.
  EXPECT_EQ(to_vec(nms(boxes({0, 0, 10, 10, 1, 1, 10, 10}).to(torch::kDouble),
                       torch::tensor({0.2, 0.3}, torch::kDouble), 0.5)),
            (std::vector<int64_t>{1}));
  EXPECT_THROW(nms(torch::zeros({3, 4}), torch::zeros({2}), 0.5), c10::Error);
}

TEST(DetectionBoxOps, NmsMatchesReferenceAndIsFast) {
  torch::manual_seed(0);
  const int64_t n = 2000;
  const auto xy = torch::rand({n, 2}) * 600;
  const auto wh = torch::rand({n, 2}) * 120 + 1;
  const auto b = torch::cat({xy, xy + wh}, 1);
  const auto s = torch::rand({n});
  for (double thr : {0.3, 0.7}) {
    const auto sub = b.narrow(0, 0, 400), sub_s = s.narrow(0, 0, 400);
    EXPECT_EQ(to_vec(nms(sub, sub_s, thr)), reference_nms(sub, sub_s, thr));
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto keep = nms(b, s, 0.7);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("nms_2000_ms", std::to_string(ms));
  std::printf("nms of %lld boxes: %.2f ms, %lld kept\n", static_cast<long long>(n), ms,
              static_cast<long long>(keep.numel()));
  EXPECT_LT(ms, 100.0);  // a few ms on one core; generous for a loaded machine
}

}  // namespace
}  // namespace zoo
