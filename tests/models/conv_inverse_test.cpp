// Convolution inverse (spec §6): conv_transpose2d with the right output_padding is the exact
// adjoint of conv2d but not an inverse; CG on the normal equations recovers x when A is
// injective and the report flags the cases where it is not.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "models/conv_inverse.h"

namespace zoo {
namespace {


ConvGeometry geometry(int64_t stride, int64_t padding, int64_t dilation = 1) {
  ConvGeometry g;
  g.stride = {stride, stride};
  g.padding = {padding, padding};
  g.dilation = {dilation, dilation};
  return g;
}

double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return (got - want).norm().item<double>() / want.norm().item<double>();
}

// Spec §6.4: the output sizes and output_padding of the worked adjoint examples.
TEST(ConvInverse, OutputPaddingOfTheSpecExamples) {
  EXPECT_EQ(conv_output_size({7, 6}, {3, 3}, geometry(2, 1)), (Size2{4, 3}));
  EXPECT_EQ(conv_transpose_output_padding({7, 6}, {3, 3}, geometry(2, 1)), (Size2{0, 1}));
  EXPECT_EQ(conv_transpose_output_padding({8, 8}, {4, 4}, geometry(2, 1)), (Size2{0, 0}));
  EXPECT_EQ(conv_transpose_output_padding({9, 7}, {3, 3}, geometry(3, 0)), (Size2{0, 1}));
  // keras #9883: 23 and 24 both give 12 (k 3, s 2, p 1); output_padding tells them apart.
  EXPECT_EQ(conv_output_size({23, 24}, {3, 3}, geometry(2, 1)), (Size2{12, 12}));
  EXPECT_EQ(conv_transpose_output_padding({23, 24}, {3, 3}, geometry(2, 1)), (Size2{0, 1}));
  EXPECT_THROW(conv_output_size({2, 2}, {5, 5}, geometry(1, 0)), c10::Error);
}

// <A x, v> = <x, Aᵀ v> in double over strides, paddings, dilations, kernels and channels, with
// Aᵀ v of x's shape.
TEST(ConvInverse, TransposedConvIsTheAdjointAcrossASweep) {
  torch::manual_seed(0);
  int checked = 0;
  for (const int64_t s : {1, 2, 3})
    for (const int64_t p : {0, 1, 2})
      for (const int64_t d : {1, 2})
        for (const Size2 k : {Size2{1, 1}, Size2{2, 2}, Size2{3, 3}, Size2{2, 3}})
          for (const Size2 ch : {Size2{1, 1}, Size2{2, 3}, Size2{3, 2}})
            for (const Size2 hw : {Size2{7, 6}, Size2{8, 9}}) {
              const auto g = geometry(s, p, d);
              const auto x = torch::randn({2, ch[0], hw[0], hw[1]}, torch::kFloat64);
              const auto w = torch::randn({ch[1], ch[0], k[0], k[1]}, torch::kFloat64);
              const auto ax = conv_apply(x, w, g);
              const auto v = torch::randn_like(ax);
              const auto atv = conv_adjoint(v, w, hw, g);
              ASSERT_EQ(atv.sizes(), x.sizes()) << s << p << d << k[0] << k[1];
              const double lhs = (ax * v).sum().item<double>();
              const double rhs = (x * atv).sum().item<double>();
              const double scale = ax.norm().item<double>() * v.norm().item<double>();
              EXPECT_LE(std::abs(lhs - rhs), 1e-12 * scale) << s << p << d << k[0] << k[1];
              ++checked;
            }
  EXPECT_EQ(checked, 3 * 3 * 2 * 4 * 3 * 2);
}

TEST(ConvInverse, AdjointIsTheGradientOfTheInnerProduct) {
  torch::manual_seed(1);
  const auto g = geometry(2, 1, 2);
  const auto w = torch::randn({3, 2, 3, 3}, torch::kFloat64);
  const auto x = torch::randn({1, 2, 9, 8}, torch::kFloat64).requires_grad_(true);
  const auto y = conv_apply(x, w, g);
  const auto v = torch::randn_like(y);
  (y * v).sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), conv_adjoint(v, w, {9, 8}, g), 0, 1e-13));
}

TEST(ConvInverse, TransposedConvIsNotAnInverse) {
  // Spec §6.4: 2x2 average pooling as a stride-2 conv on arange(16) as 4x4.
  const auto x = torch::arange(16, torch::kFloat64).view({1, 1, 4, 4});
  const auto w = torch::full({1, 1, 2, 2}, 0.25, torch::kFloat64);
  const auto g = geometry(2, 0);
  const auto y = conv_apply(x, w, g);
  EXPECT_TRUE(torch::equal(y.flatten(), torch::tensor({2.5, 4.5, 10.5, 12.5}, torch::kFloat64)));
  const auto back = conv_adjoint(y, w, {4, 4}, g);
  EXPECT_TRUE(torch::equal(back[0][0][0], torch::tensor({0.625, 0.625, 1.125, 1.125}, torch::kFloat64)));
  EXPECT_TRUE(torch::equal(back[0][0][3], torch::tensor({2.625, 2.625, 3.125, 3.125}, torch::kFloat64)));
  EXPECT_GT(relative_error(back, x), 0.5);

  // An ordinary "same" 3x3 conv: |AᵀA x - x| is of the order of |x|.
  torch::manual_seed(2);
  const auto x2 = torch::randn({1, 2, 10, 10}, torch::kFloat64);
  const auto w2 = torch::randn({2, 2, 3, 3}, torch::kFloat64) / 3;
  const auto g2 = geometry(1, 1);
  EXPECT_GT(relative_error(conv_adjoint(conv_apply(x2, w2, g2), w2, {10, 10}, g2), x2), 0.5);
}

// Orthonormal stride-2 filter banks: there AᵀA = I, so conv_transpose is the exact inverse.
TEST(ConvInverse, OrthonormalFilterBanksAreInvertedByTheTranspose) {
  torch::manual_seed(3);
  const auto x = torch::randn({1, 1, 6, 4}, torch::kFloat64);
  const auto g = geometry(2, 0);
  auto s2d = torch::zeros({4, 1, 2, 2}, torch::kFloat64);  // one-hot kernels = space-to-depth
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) s2d[2 * i + j][0][i][j] = 1.0;
  const auto y = conv_apply(x, s2d, g);
  EXPECT_TRUE(torch::equal(y, torch::pixel_unshuffle(x, 2)));
  EXPECT_TRUE(torch::equal(conv_adjoint(y, s2d, {6, 4}, g), x));

  const auto haar = 0.5 * torch::tensor({1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1, -1, 1, -1, -1, 1},
                                        torch::kFloat64).view({4, 1, 2, 2});
  const auto back = conv_adjoint(conv_apply(x, haar, g), haar, {6, 4}, g);
  EXPECT_LT((back - x).abs().max().item<double>(), 1e-15);
  // deconvolve agrees: AᵀA = I, one CG step.
  DeconvolveOptions o;
  o.geometry = g;
  const auto r = deconvolve(conv_apply(x, haar, g), haar, {6, 4}, o);
  EXPECT_TRUE(r.report.injectivity.injective) << r.report.injectivity.reason;
  EXPECT_EQ(r.report.iterations, 1);
  EXPECT_NEAR(r.report.injectivity.sigma_min, 1.0, 1e-9);
  EXPECT_NEAR(r.report.injectivity.sigma_max, 1.0, 1e-9);
}

// Spec §6.4 rank facts, on 1-row images (kernel 1 x k): valid [1, 2] is not injective, full is;
// zero-padded central difference is singular for odd n (skew-symmetric) and not for n = 4.
TEST(ConvInverse, InjectivityVerdictsMatchTheRankFacts) {
  const auto k12 = torch::tensor({1.0, 2.0}, torch::kFloat64).view({1, 1, 1, 2});
  ConvGeometry valid, full;
  full.padding = {0, 1};
  const auto v = conv_injectivity(k12, {1, 4}, valid);
  EXPECT_FALSE(v.injective);
  EXPECT_NE(v.reason.find("too few outputs"), std::string::npos) << v.reason;
  EXPECT_TRUE(conv_injectivity(k12, {1, 4}, full).injective);

  const auto diff = torch::tensor({-1.0, 0.0, 1.0}, torch::kFloat64).view({1, 1, 1, 3});
  ConvGeometry same;
  same.padding = {0, 1};
  for (const int64_t n : {3, 5, 7}) {
    const auto r = conv_injectivity(diff, {1, n}, same);
    EXPECT_FALSE(r.injective) << n;
    EXPECT_NE(r.reason.find("numerically singular"), std::string::npos) << r.reason;
    EXPECT_LT(r.sigma_min, 1e-6) << n;
  }
  const auto four = conv_injectivity(diff, {1, 4}, same);
  EXPECT_TRUE(four.injective) << four.reason;
  EXPECT_NEAR(four.sigma_min, 0.6180339887498949, 1e-9);  // spec: smallest sigma 0.618

  // Stride 2 with a 1x1 kernel reads every other pixel: enough outputs (4 channels), but the
  // odd rows and columns are never read.
  const auto r = conv_injectivity(torch::ones({4, 1, 1, 1}, torch::kFloat64), {4, 4}, geometry(2, 0));
  EXPECT_FALSE(r.injective);
  EXPECT_NE(r.reason.find("read by no non-zero weight"), std::string::npos) << r.reason;
  // k 3, s 2, p 0 on 8 rows: the last row falls outside every window even with 8 channels
  // (7 columns are all covered).
  const auto last = conv_injectivity(torch::ones({8, 1, 3, 3}, torch::kFloat64), {8, 7}, geometry(2, 0));
  EXPECT_FALSE(last.injective);
  EXPECT_NE(last.reason.find("row 7, col 0"), std::string::npos) << last.reason;
}

TEST(ConvInverse, DeconvolveRecoversInjectiveConvolutions) {
  torch::manual_seed(4);
  // Spec §6.4: "full" 3x3 conv (padding 2) of a 16x16 image.
  const auto x = torch::randn({1, 1, 16, 16}, torch::kFloat64);
  const auto k = torch::randn({1, 1, 3, 3}, torch::kFloat64);
  DeconvolveOptions o;
  o.geometry = geometry(1, 2);
  o.tol = 1e-14;
  auto r = deconvolve(conv_apply(x, k, o.geometry), k, {16, 16}, o);
  EXPECT_TRUE(r.report.injectivity.injective) << r.report.injectivity.reason;
  EXPECT_TRUE(r.report.converged);
  EXPECT_LT((r.x - x).abs().max().item<double>(), 1e-10);  // spec: 3e-14 after 92 iterations
  EXPECT_LT(r.report.relative_residual, 1e-12);

  // Stride 2, 2 -> 8 channels, k 2: square and generically invertible, a batch of 2.
  const auto x2 = torch::randn({2, 2, 8, 6}, torch::kFloat64);
  const auto w2 = torch::randn({8, 2, 2, 2}, torch::kFloat64);
  DeconvolveOptions o2;
  o2.geometry = geometry(2, 0);
  o2.tol = 1e-14;
  r = deconvolve(conv_apply(x2, w2, o2.geometry), w2, {8, 6}, o2);
  EXPECT_TRUE(r.report.injectivity.injective) << r.report.injectivity.reason;
  EXPECT_LT(relative_error(r.x, x2), 1e-10);
}

TEST(ConvInverse, DeconvolveFlagsNonInjectiveConvolutions) {
  torch::manual_seed(5);
  // Spec §6.4: stride-2 3x3 conv 16x16 -> 8x8 with ridge 1e-3: the data fit is good, the
  // recovery is not.
  const auto x = torch::randn({1, 1, 16, 16}, torch::kFloat64);
  const auto k = torch::randn({1, 1, 3, 3}, torch::kFloat64);
  DeconvolveOptions o;
  o.geometry = geometry(2, 1);
  o.lambda = 1e-3;
  const auto y = conv_apply(x, k, o.geometry);
  const auto r = deconvolve(y, k, {16, 16}, o);
  EXPECT_FALSE(r.report.injectivity.injective);
  EXPECT_NE(r.report.injectivity.reason.find("too few outputs"), std::string::npos);
  EXPECT_EQ(r.report.injectivity.sigma_min, 0.0);
  EXPECT_TRUE(r.report.converged);
  EXPECT_LT(r.report.data_residual, 1e-2);
  EXPECT_GT(relative_error(r.x, x), 0.5);

  // Numerically singular (central difference, odd n): least squares fits y exactly with the
  // minimum-norm solution, which differs from x by a null-space component.
  const auto diff = torch::tensor({-1.0, 0.0, 1.0}, torch::kFloat64).view({1, 1, 1, 3});
  DeconvolveOptions o2;
  o2.geometry.padding = {0, 1};
  const auto x2 = torch::tensor({1.0, 2.0, 0.5, -1.0, 3.0}, torch::kFloat64).view({1, 1, 1, 5});
  const auto r2 = deconvolve(conv_apply(x2, diff, o2.geometry), diff, {1, 5}, o2);
  EXPECT_FALSE(r2.report.injectivity.injective) << r2.report.injectivity.reason;
  EXPECT_LT(r2.report.data_residual, 1e-10);
  EXPECT_GT(relative_error(r2.x, x2), 0.1);
}

TEST(ConvInverse, DeconvolveRejectsMismatchedShapes) {
  const auto w = torch::randn({2, 1, 3, 3}, torch::kFloat64);
  DeconvolveOptions o;
  o.geometry = geometry(1, 1);
  EXPECT_THROW(deconvolve(torch::zeros({1, 2, 5, 5}, torch::kFloat64), w, {6, 6}, o), c10::Error);
  EXPECT_THROW(deconvolve(torch::zeros({1, 3, 6, 6}, torch::kFloat64), w, {6, 6}, o), c10::Error);
  EXPECT_THROW(deconvolve(torch::zeros({1, 2, 6, 6}), w, {6, 6}, o), c10::Error);  // float y
  const auto r = deconvolve(torch::zeros({1, 2, 6, 6}, torch::kFloat64), w, {6, 6}, o);
  EXPECT_EQ(r.report.iterations, 0);  // y = 0: x = 0, nothing to do
  EXPECT_EQ(r.x.abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace zoo
