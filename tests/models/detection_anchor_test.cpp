// Anchor generator: the 9 base anchors of spec §5.1 (exact), half-to-even rounding, the grid
// order and stride (incl. torchvision's integer-division stride 61 on an FPN level), dtype.
#include <gtest/gtest.h>

#include <vector>

#include "models/detection/anchor_generator.h"
#include "tests/models/box_rows.h"

namespace zoo {
namespace {

TEST(DetectionAnchors, NineBaseAnchorsOfTheSpec) {
  const AnchorGenerator gen;  // sizes 128, 256, 512 x ratios 0.5, 1, 2
  EXPECT_EQ(gen.num_levels(), 1);
  EXPECT_EQ(gen.num_anchors_per_location(), (std::vector<int64_t>{9}));
  const auto expected = rows({-91, -45, 91, 45, -181, -91,  181, 91,  -362, -181, 362, 181,
                              -64, -64, 64, 64, -128, -128, 128, 128, -256, -256, 256, 256,
                              -45, -91, 45, 91, -91,  -181, 91,  181, -181, -362, 181, 362});
  EXPECT_TRUE(torch::equal(gen.cell_anchors(0), expected));
}

TEST(DetectionAnchors, RoundsHalfToEven) {
  // 45 / 2 = 22.5 -> 22 (torch.round); std::round would give 23.
  AnchorGeneratorOptions o;
  o.sizes = {{45.0}};
  o.aspect_ratios = {{1.0}};
  EXPECT_TRUE(torch::equal(AnchorGenerator(o).cell_anchors(0), rows({-22, -22, 22, 22})));
  // FPN level 32: (-23, -11, 23, 11) (-16, -16, 16, 16) (-11, -23, 11, 23).
  o.sizes = {{32.0}};
  o.aspect_ratios = {{0.5, 1.0, 2.0}};
  EXPECT_TRUE(torch::equal(AnchorGenerator(o).cell_anchors(0),
                           rows({-23, -11, 23, 11, -16, -16, 16, 16, -11, -23, 11, 23})));
}

TEST(DetectionAnchors, GridOrderLocationMajorThenAnchor) {
  // 64 x 48 image (H x W), 4 x 3 map: stride 16 both ways.
  const AnchorGenerator gen;
  const auto anchors = gen({64, 48}, {torch::zeros({1, 8, 4, 3})});
  ASSERT_EQ(anchors.sizes(), (std::vector<int64_t>{4 * 3 * 9, 4}));
  EXPECT_TRUE(torch::equal(anchors.narrow(0, 0, 9), gen.cell_anchors(0)));
  EXPECT_TRUE(torch::equal(anchors.narrow(0, 9, 3),
                           rows({-75, -45, 107, 45, -165, -91, 197, 91, -346, -181, 378, 181})));
  // Location (row 1, col 0) = index 3 is shifted by (0, 16): no half-stride offset.
  EXPECT_TRUE(torch::equal(anchors.narrow(0, 27, 9),
                           gen.cell_anchors(0) + torch::tensor({0.0f, 16.0f, 0.0f, 16.0f})));
}

TEST(DetectionAnchors, IntegerDivisionStridePerAxis) {
  // torchvision's FPN default on an 800 x 1088 batch: 217413 anchors; the 13 x 17 level gets
  // stride_h = 800 / 13 = 61 and stride_w = 1088 / 17 = 64.
  AnchorGeneratorOptions o;
  o.sizes = {{32.0}, {64.0}, {128.0}, {256.0}, {512.0}};
  o.aspect_ratios = std::vector<std::vector<double>>(5, {0.5, 1.0, 2.0});
  const AnchorGenerator gen(o);
  const auto anchors =
      gen.grid_anchors({800, 1088}, {{200, 272}, {100, 136}, {50, 68}, {25, 34}, {13, 17}});
  ASSERT_EQ(anchors.size(0), 217413);
  const int64_t last = 217413 - 13 * 17 * 3;
  const auto base = gen.cell_anchors(4);
  // Location (0, 1) and (1, 0) of the last level.
  EXPECT_TRUE(torch::equal(anchors.narrow(0, last + 3, 3),
                           base + torch::tensor({64.0f, 0.0f, 64.0f, 0.0f})));
  EXPECT_TRUE(torch::equal(anchors.narrow(0, last + 17 * 3, 3),
                           base + torch::tensor({0.0f, 61.0f, 0.0f, 61.0f})));
}

TEST(DetectionAnchors, FollowsTheFeatureDtypeAndChecksLevels) {
  const AnchorGenerator gen;
  const auto anchors = gen({32, 32}, {torch::zeros({2, 4, 2, 2}, torch::kDouble)});
  EXPECT_EQ(anchors.scalar_type(), torch::kDouble);
  EXPECT_EQ(anchors.size(0), 2 * 2 * 9);
  EXPECT_THROW(gen({32, 32}, {torch::zeros({1, 4, 2, 2}), torch::zeros({1, 4, 1, 1})}), c10::Error);
}

}  // namespace
}  // namespace zoo
