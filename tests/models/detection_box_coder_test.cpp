// Box coder: the encodings of spec §5.3, the round trip, the dw/dh clamp at log(1000/16) and
// several boxes per row.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/detection/box_coder.h"

namespace zoo {
namespace {

torch::Tensor row(std::vector<float> v) { return torch::tensor(v).view({-1, 4}); }

void expect_near(const torch::Tensor& t, std::vector<double> v, double tol) {
  const auto e = torch::tensor(v, torch::kDouble).view(t.sizes());
  EXPECT_TRUE(torch::allclose(t.to(torch::kDouble), e, 0, tol)) << t << "\nexpected\n" << e;
}

TEST(DetectionBoxCoder, EncodeWithoutPlusOneWidths) {
  const BoxCoder coder;
  const auto anchor = row({0, 0, 100, 50}), gt = row({10, 5, 110, 65});
  expect_near(coder.encode(gt, anchor), {0.1, 0.2, 0.0, 0.18232159}, 1e-7);
  const BoxCoder rcnn(BoxCoderOptions{{10.0, 10.0, 5.0, 5.0}});
  expect_near(rcnn.encode(gt, anchor), {1.0, 2.0, 0.0, 0.91160798}, 1e-6);
  expect_near(coder.encode(row({-30, -60, 50, 100}), row({-45, -91, 45, 91})),
              {0.11111111, 0.10989011, -0.11778302, -0.12883286}, 1e-7);
}

TEST(DetectionBoxCoder, RoundTrip) {
  torch::manual_seed(3);
  const auto xy = torch::rand({50, 2}) * 200, wh = torch::rand({50, 2}) * 100 + 2;
  const auto anchors = torch::cat({xy, xy + wh}, 1);
  const auto xy2 = xy + torch::randn({50, 2}) * 10, wh2 = wh * (torch::rand({50, 2}) + 0.5);
  const auto gts = torch::cat({xy2, xy2 + wh2}, 1);
  for (const auto& coder : {BoxCoder(), BoxCoder(BoxCoderOptions{{10.0, 10.0, 5.0, 5.0}})}) {
    const auto back = coder.decode(coder.encode(gts, anchors), anchors);
    EXPECT_TRUE(torch::allclose(back, gts, 0, 1e-4));
    EXPECT_LT((back - gts).abs().max().item<double>(), 1e-4);
  }
}

TEST(DetectionBoxCoder, DecodeClampsDwDh) {
  const BoxCoder coder;
  EXPECT_DOUBLE_EQ(coder.options().bbox_xform_clip, 4.135166556742356);
  // dw = 10 is clamped to log(62.5): width 100 -> 6250, centre 50 -> (-3075, 3175).
  expect_near(coder.decode(row({0, 0, 10, 0}), row({0, 0, 100, 50})),
              {-3075.0002, 0.0, 3175.0002, 50.0}, 1e-3);
  // Large negative dw is not clamped (the box just shrinks); dx, dy are never clamped.
  expect_near(coder.decode(row({100, 0, -10, 0}), row({0, 0, 100, 50})),
              {10050.0 - 50.0 * std::exp(-10.0), 0.0, 10050.0 + 50.0 * std::exp(-10.0), 50.0},
              1e-2);
}

TEST(DetectionBoxCoder, SeveralBoxesPerRow) {
  // [N, 8]: two codes per anchor, e.g. two classes.
  const BoxCoder coder;
  const auto codes = row({0, 0, 0, 0, 0.1f, 0.2f, 0, 0.18232159f}).view({1, 8});
  expect_near(coder.decode(codes, row({0, 0, 100, 50})), {0, 0, 100, 50, 10, 5, 110, 65}, 1e-4);
  EXPECT_THROW(coder.decode(torch::zeros({1, 5}), row({0, 0, 1, 1})), c10::Error);
}

}  // namespace
}  // namespace zoo
