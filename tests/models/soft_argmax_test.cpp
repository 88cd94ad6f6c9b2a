// Soft-argmax (spec §3): the worked numbers of §3.3, grids, one-hot maps returning exactly their
// cell in every convention, conversions, translation equivariance, masks, and gradients against
// finite differences.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include "models/soft_argmax.h"

namespace zoo {
namespace {

using C = CoordConvention;

std::vector<double> values(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat64).contiguous().flatten();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

SoftArgmax2d make2d(double beta, C convention) {
  SoftArgmaxOptions o;
  o.beta = beta;
  o.convention = convention;
  return SoftArgmax2d(o);
}

// Largest difference between the Jacobian of f at x0 from autograd and from central
// differences (what torch.autograd.gradcheck compares), all in double.
double jacobian_error(const std::function<torch::Tensor(const torch::Tensor&)>& f,
                      const torch::Tensor& x0, double h = 1e-6) {
  const auto x = x0.detach().clone().requires_grad_(true);
  const auto out = f(x).flatten();
  double worst = 0.0;
  for (int64_t o = 0; o < out.numel(); ++o) {
    const auto analytic = torch::autograd::grad({out[o]}, {x}, {}, /*retain_graph=*/true)[0];
    for (int64_t i = 0; i < x0.numel(); ++i) {
      auto plus = x0.detach().clone(), minus = x0.detach().clone();
      plus.view(-1)[i] += h;
      minus.view(-1)[i] -= h;
      const double numeric =
          (f(plus).flatten()[o].item<double>() - f(minus).flatten()[o].item<double>()) / (2 * h);
      worst = std::max(worst, std::abs(numeric - analytic.view(-1)[i].item<double>()));
    }
  }
  return worst;
}

TEST(SoftArgmax, GridVectors) {
  EXPECT_EQ(values(coordinate_grid(4, C::kPixel)), (std::vector<double>{0, 1, 2, 3}));
  EXPECT_EQ(values(coordinate_grid(4, C::kPixelCentre)),
            (std::vector<double>{-0.75, -0.25, 0.25, 0.75}));
  const auto kornia = values(coordinate_grid(4, C::kAlignCorners));
  const std::vector<double> expected{-1, -1.0 / 3, 1.0 / 3, 1};
  for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(kornia[j], expected[j], 1e-15);
  EXPECT_EQ(values(coordinate_grid(1, C::kAlignCorners)), std::vector<double>{0.0});
  EXPECT_EQ(coordinate_grid(3, C::kPixel, torch::kFloat).scalar_type(), torch::kFloat);
}

TEST(SoftArgmax, ParseConvention) {
  EXPECT_EQ(parse_coord_convention("pixel"), C::kPixel);
  EXPECT_EQ(parse_coord_convention("align_corners"), C::kAlignCorners);
  EXPECT_EQ(parse_coord_convention("pixel_centre"), C::kPixelCentre);
  EXPECT_THROW(parse_coord_convention("dsnt"), c10::Error);
}

// Spec §3.3: h = 3, w = 4, logits 0 except 1.0 at row 2, col 1 (non-square, so an x/y swap fails).
TEST(SoftArgmax, WorkedNumbersOfSpec) {
  auto logits = torch::zeros({1, 1, 3, 4}, torch::kFloat64);
  logits[0][0][2][1] = 1.0;
  struct Row {
    double beta, max_prob;
    std::vector<double> pixel, kornia, dsnt, integral;
  };
  const std::vector<Row> rows = {
      {1, 0.198150, {1.437373, 1.125255}, {-0.041752, 0.125255}, {-0.031314, 0.083503},
       {-0.140657, -0.124915}},
      {10, 0.999501, {1.000272, 1.999455}, {-0.333152, 0.999455}, {-0.249864, 0.666304},
       {-0.249932, 0.166485}},
      {100, 1.0, {1, 2}, {-1.0 / 3, 1}, {-0.25, 2.0 / 3}, {-0.25, 1.0 / 6}},
  };
  for (const auto& r : rows) {
    const auto out = make2d(r.beta, C::kPixel)->forward_with_heatmaps(logits);
    EXPECT_NEAR(out.heatmaps.max().item<double>(), r.max_prob, 1e-6) << r.beta;
    const auto pixel = values(out.coords);
    const auto kornia = values(make2d(r.beta, C::kAlignCorners)(logits));
    const auto dsnt = values(make2d(r.beta, C::kPixelCentre)(logits));
    for (int a = 0; a < 2; ++a) {
      EXPECT_NEAR(pixel[a], r.pixel[a], 1e-6) << r.beta;
      EXPECT_NEAR(kornia[a], r.kornia[a], 1e-6) << r.beta;
      EXPECT_NEAR(dsnt[a], r.dsnt[a], 1e-6) << r.beta;
      // Integral regression's grid j / n - 0.5 (spec §3.1), from the pixel output.
      EXPECT_NEAR(pixel[a] / (a == 0 ? 4 : 3) - 0.5, r.integral[a], 1e-6) << r.beta;
    }
  }
}

TEST(SoftArgmax, UniformMapGivesTheCentre) {
  const auto logits = torch::zeros({1, 1, 3, 4}, torch::kFloat64);
  EXPECT_EQ(values(make2d(1, C::kPixel)(logits)), (std::vector<double>{1.5, 1.0}));
  for (const auto c : {C::kAlignCorners, C::kPixelCentre})
    for (const double v : values(make2d(1, c)(logits))) EXPECT_NEAR(v, 0.0, 1e-15);
}

TEST(SoftArgmax, OneHotGivesExactlyThatCellInEveryConvention) {
  const int64_t h = 5, w = 7;
  const std::vector<std::pair<int64_t, int64_t>> cells = {{0, 0}, {4, 6}, {2, 5}, {3, 0}};
  for (const auto dtype : {torch::kFloat64, torch::kFloat32})
    for (const auto& [i, j] : cells) {
      // A very large logit: every other cell's exp underflows to exactly 0.
      auto logits = torch::zeros({1, 1, h, w}, dtype);
      logits[0][0][i][j] = 1e4;
      EXPECT_EQ(values(make2d(1, C::kPixel)(logits)),
                (std::vector<double>{static_cast<double>(j), static_cast<double>(i)}));
      // beta -> large on an ordinary logit does the same.
      auto unit = torch::zeros({1, 1, h, w}, dtype);
      unit[0][0][i][j] = 1.0;
      EXPECT_EQ(values(make2d(1e5, C::kPixel)(unit)),
                (std::vector<double>{static_cast<double>(j), static_cast<double>(i)}));
      for (const auto c : {C::kAlignCorners, C::kPixelCentre}) {
        const auto got = values(make2d(1, c)(logits));
        EXPECT_EQ(got[0], values(coordinate_grid(w, c, dtype))[j]);
        EXPECT_EQ(got[1], values(coordinate_grid(h, c, dtype))[i]);
        const auto back = values(convert_coords(make2d(1, c)(logits), {w, h}, c, C::kPixel));
        EXPECT_NEAR(back[0], j, 1e-5);  // float: one rounding of the conversion
        EXPECT_NEAR(back[1], i, 1e-5);
      }
    }
}

TEST(SoftArgmax, ThreeDimensionalOneHotAndOrder) {
  auto logits = torch::zeros({1, 2, 2, 3, 4}, torch::kFloat64);
  logits[0][0][1][2][3] = 1e4;  // d = 1, row 2, col 3 -> (x, y, z) = (3, 2, 1)
  logits[0][1][0][1][0] = 1e4;
  SoftArgmaxOptions o;
  o.convention = C::kPixel;
  const auto out = SoftArgmax3d(o)->forward_with_heatmaps(logits);
  EXPECT_EQ(out.coords.sizes(), (torch::IntArrayRef{1, 2, 3}));
  EXPECT_EQ(values(out.coords), (std::vector<double>{3, 2, 1, 0, 1, 0}));
  EXPECT_EQ(out.heatmaps.sizes(), logits.sizes());
  const auto uniform = SoftArgmax3d(o)(torch::zeros({1, 1, 2, 3, 4}, torch::kFloat64));
  EXPECT_EQ(values(uniform), (std::vector<double>{1.5, 1, 0.5}));
  EXPECT_THROW(SoftArgmax3d(o)->forward(torch::zeros({1, 1, 3, 4})), c10::Error);
}

TEST(SoftArgmax, ConventionsAgreeAfterConversion) {
  torch::manual_seed(0);
  const auto logits = torch::randn({2, 3, 5, 7}, torch::kFloat64) * 3;
  const auto pixel = make2d(2, C::kPixel)(logits);
  for (const auto c : {C::kAlignCorners, C::kPixelCentre}) {
    const auto native = make2d(2, c)(logits);
    EXPECT_TRUE(torch::allclose(convert_coords(pixel, {7, 5}, C::kPixel, c), native, 0, 1e-12));
    EXPECT_TRUE(torch::allclose(convert_coords(native, {7, 5}, c, C::kPixel), pixel, 0, 1e-12));
  }
  const auto kornia = make2d(2, C::kAlignCorners)(logits);
  const auto dsnt = make2d(2, C::kPixelCentre)(logits);
  EXPECT_TRUE(torch::allclose(convert_coords(kornia, {7, 5}, C::kAlignCorners, C::kPixelCentre),
                              dsnt, 0, 1e-12));
  // Spec §3.1 back-conversions: kornia u = (x+1)(w-1)/2, DSNT u = ((x+1)w - 1)/2.
  const auto x = torch::tensor({{0.5, -0.2}}, torch::kFloat64);
  EXPECT_EQ(values(convert_coords(x, {7, 5}, C::kAlignCorners, C::kPixel)),
            (std::vector<double>{1.5 * 6 / 2, 0.8 * 4 / 2}));
  EXPECT_NEAR(values(convert_coords(x, {7, 5}, C::kPixelCentre, C::kPixel))[0],
              (1.5 * 7 - 1) / 2, 1e-14);
  EXPECT_THROW(convert_coords(x, {7, 5, 3}, C::kPixel, C::kPixelCentre), c10::Error);
}

// Moving the logits moves the output by the same amount (the blob is far from the borders, and
// the background is constant, so torch::roll is an exact translation of the map's content).
TEST(SoftArgmax, TranslatingTheHeatmapShiftsTheOutput) {
  torch::manual_seed(1);
  auto logits = torch::full({1, 2, 16, 20}, -40.0, torch::kFloat64);
  logits.slice(2, 3, 7).slice(3, 4, 8) = torch::randn({1, 2, 4, 4}, torch::kFloat64);
  const int64_t dy = 5, dx = 9;
  const auto moved = torch::roll(logits, {dy, dx}, {2, 3});
  const auto shift = make2d(1, C::kPixel)(moved) - make2d(1, C::kPixel)(logits);
  for (int k = 0; k < 2; ++k) {
    EXPECT_NEAR(shift[0][k][0].item<double>(), dx, 1e-9);
    EXPECT_NEAR(shift[0][k][1].item<double>(), dy, 1e-9);
  }
  // In DSNT units a pixel is 2 / n.
  const auto shift_n = make2d(1, C::kPixelCentre)(moved) - make2d(1, C::kPixelCentre)(logits);
  EXPECT_NEAR(shift_n[0][0][0].item<double>(), 2.0 * dx / 20, 1e-9);
  EXPECT_NEAR(shift_n[0][0][1].item<double>(), 2.0 * dy / 16, 1e-9);
}

TEST(SoftArgmax, HeatmapsSumToOne) {
  torch::manual_seed(2);
  const auto out =
      make2d(3, C::kPixelCentre)->forward_with_heatmaps(torch::randn({2, 4, 6, 5}, torch::kFloat64) * 10);
  EXPECT_TRUE(torch::allclose(out.heatmaps.sum({2, 3}), torch::ones({2, 4}, torch::kFloat64), 0, 1e-12));
  EXPECT_GE(out.heatmaps.min().item<double>(), 0.0);
}

TEST(SoftArgmax, MaskRemovesCellsAndAFullyMaskedMapGivesTheCentre) {
  auto logits = torch::zeros({1, 2, 3, 4}, torch::kFloat64);
  logits[0][0][0][0] = 100;  // the max, masked out below
  logits[0][0][2][3] = 50;   // the max of what remains
  auto mask = torch::ones({3, 4}, torch::kBool);  // [H, W], broadcast over B, K
  mask[0][0] = false;
  auto full = torch::ones({1, 2, 3, 4}, torch::kFloat64);  // numeric [B, K, H, W] mask
  full[0][1].zero_();                           // keypoint 1: nothing valid
  const auto out = make2d(1, C::kPixel)->forward_with_heatmaps(logits, mask);
  EXPECT_EQ(out.heatmaps[0][0][0][0].item<double>(), 0.0);
  EXPECT_NEAR(out.coords[0][0][0].item<double>(), 3.0, 1e-12);
  EXPECT_NEAR(out.coords[0][0][1].item<double>(), 2.0, 1e-12);

  const auto x = logits.clone().requires_grad_(true);
  const auto masked = make2d(1, C::kPixel)->forward_with_heatmaps(x, full);
  EXPECT_EQ(masked.heatmaps[0][1].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(values(masked.coords[0][1]), (std::vector<double>{1.5, 1.0}));
  masked.coords.sum().backward();
  EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>());
  EXPECT_EQ(x.grad()[0][1].abs().sum().item<double>(), 0.0);
}

TEST(SoftArgmax, GradientsMatchFiniteDifferences) {
  torch::manual_seed(3);
  const auto x2 = torch::randn({1, 2, 3, 4}, torch::kFloat64);
  for (const auto c : {C::kPixel, C::kAlignCorners, C::kPixelCentre}) {
    auto m = make2d(1.7, c);
    EXPECT_LT(jacobian_error([&](const torch::Tensor& x) { return m(x); }, x2), 1e-8);
  }
  auto m = make2d(1.7, C::kPixel);
  auto mask = torch::ones({3, 4}, torch::kFloat64);
  mask[1][2] = 0;
  EXPECT_LT(jacobian_error([&](const torch::Tensor& x) { return m(x, mask); }, x2), 1e-8);
  // The probability maps too (the JS regulariser differentiates through them).
  EXPECT_LT(jacobian_error(
                [&](const torch::Tensor& x) { return m->forward_with_heatmaps(x).heatmaps; },
                x2.slice(1, 0, 1)),
            1e-8);
  SoftArgmaxOptions o;
  o.convention = C::kPixelCentre;
  SoftArgmax3d m3(o);
  EXPECT_LT(jacobian_error([&](const torch::Tensor& x) { return m3(x); },
                           torch::randn({1, 2, 2, 3, 2}, torch::kFloat64)),
            1e-8);
}

TEST(SoftArgmax, LearnableBetaIsAPositiveParameterWithTheRightGradient) {
  SoftArgmaxOptions o;
  o.beta = 2.0;
  o.learnable_beta = true;
  o.convention = C::kPixel;
  SoftArgmax2d m(o);
  m->to(torch::kFloat64);
  ASSERT_EQ(m->parameters().size(), 1u);
  EXPECT_EQ(m->named_parameters().begin()->key(), "log_beta");
  EXPECT_NEAR(m->beta(), 2.0, 1e-6);  // log_beta was created in float
  EXPECT_EQ(make2d(2.0, C::kPixel)->parameters().size(), 0u);  // fixed beta: nothing to learn

  torch::manual_seed(4);
  const auto logits = torch::randn({1, 2, 3, 4}, torch::kFloat64);
  const auto probe = torch::randn({1, 2, 2}, torch::kFloat64);
  const auto objective = [&] { return (m(logits) * probe).sum(); };
  objective().backward();
  const double analytic = m->log_beta.grad().item<double>();
  torch::NoGradGuard no_grad;
  const double h = 1e-6, lb = m->log_beta.item<double>();
  m->log_beta.fill_(lb + h);
  const double up = objective().item<double>();
  m->log_beta.fill_(lb - h);
  const double down = objective().item<double>();
  EXPECT_NEAR(analytic, (up - down) / (2 * h), 1e-8);
  m->log_beta.fill_(-20.0);  // any real log_beta is a positive beta
  EXPECT_GT(m->beta(), 0.0);
}

TEST(SoftArgmax, HalfLogitsAreComputedInFloat) {
  // 1e4 * beta 10 overflows half; computed in float it is a clean one-hot.
  auto logits = torch::zeros({1, 1, 3, 4}, torch::kHalf);
  logits[0][0][2][1] = 1e4;
  const auto out = make2d(10, C::kPixel)->forward_with_heatmaps(logits);
  EXPECT_EQ(out.coords.scalar_type(), torch::kFloat);
  EXPECT_EQ(values(out.coords), (std::vector<double>{1, 2}));
}

TEST(SoftArgmax, RejectsBadInput) {
  EXPECT_THROW(make2d(1, C::kPixel)(torch::zeros({3, 4})), c10::Error);
  EXPECT_THROW(make2d(0, C::kPixel), c10::Error);
  EXPECT_THROW(make2d(1, C::kPixel)(torch::zeros({1, 1, 3, 4}, torch::kLong)), c10::Error);
}

}  // namespace
}  // namespace zoo
