// deconv_demo [OUT.png]  (default deconv_demo.png)
// Transposed convolution vs deconvolution (spec §6) on a drawn 64x64 image, for an injective
// conv (a 5x5 blur, stride 1, "same" padding) and a non-injective one (the same blur, stride 2).
// Writes one PNG, a row per case: x, y = A x, Aᵀ y (what a "deconvolution layer" computes) and
// the least-squares recovery x̂ from deconvolve; prints the residuals and the injectivity
// verdicts.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/conv_inverse.h"
#include "train/plot.h"

namespace {

constexpr int kSize = 64;
constexpr int kPanel = 192;  // every panel is shown at this size (nearest-neighbour)
constexpr int kLabel = 22;   // label band above each panel

cv::Mat draw_image() {
  cv::Mat img(kSize, kSize, CV_64F, cv::Scalar(0.1));
  cv::rectangle(img, cv::Rect(6, 8, 22, 16), cv::Scalar(0.9), cv::FILLED);
  cv::circle(img, cv::Point(44, 20), 11, cv::Scalar(0.6), cv::FILLED);
  cv::line(img, cv::Point(4, 60), cv::Point(60, 34), cv::Scalar(1.0), 1);
  cv::putText(img, "zoo", cv::Point(10, 54), cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(0.8), 1);
  return img;
}

torch::Tensor to_tensor(const cv::Mat& img) {
  return torch::from_blob(img.data, {1, 1, img.rows, img.cols}, torch::kFloat64).clone();
}

// A [1, 1, h, w] tensor as an 8-bit panel: values in [0, 1] mapped to 0..255 (clipped, so a
// darker Aᵀ y shows the lost energy), enlarged to kPanel with a label above.
cv::Mat panel(const torch::Tensor& t, const std::string& label) {
  const auto c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const cv::Mat values(static_cast<int>(c.size(2)), static_cast<int>(c.size(3)), CV_64F,
                       c.data_ptr<double>());
  cv::Mat gray, big;
  values.convertTo(gray, CV_8U, 255.0);  // saturating
  cv::resize(gray, big, cv::Size(kPanel, kPanel), 0, 0, cv::INTER_NEAREST);
  cv::Mat out(kPanel + kLabel, kPanel, CV_8U, cv::Scalar(255));
  big.copyTo(out(cv::Rect(0, kLabel, kPanel, kPanel)));
  cv::putText(out, label, cv::Point(4, 16), cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0), 1,
              cv::LINE_AA);
  return out;
}

double relative(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / b.norm().item<double>();
}

cv::Mat run_case(const std::string& name, const torch::Tensor& x, const torch::Tensor& kernel,
                 const zoo::DeconvolveOptions& options) {
  const zoo::Size2 size{x.size(2), x.size(3)};
  const auto y = zoo::conv_apply(x, kernel, options.geometry);
  const auto aty = zoo::conv_adjoint(y, kernel, size, options.geometry);
  const auto result = zoo::deconvolve(y, kernel, size, options);
  const auto& r = result.report;
  std::printf("%s: y %lldx%lld\n", name.c_str(), static_cast<long long>(y.size(2)),
              static_cast<long long>(y.size(3)));
  std::printf("  |A^T A x - x| / |x| = %.3e   (transposed conv is not an inverse)\n",
              relative(aty, x));
  std::printf("  deconvolve: %lld CG iterations, converged %s, normal-equation residual %.2e, "
              "data residual %.2e\n",
              static_cast<long long>(r.iterations), r.converged ? "yes" : "no",
              r.relative_residual, r.data_residual);
  std::printf("  |x_hat - x| / |x| = %.3e\n", relative(result.x, x));
  std::printf("  injective: %s (%s)\n", r.injectivity.injective ? "yes" : "no",
              r.injectivity.reason.c_str());

  std::vector<cv::Mat> row = {panel(x, "x"), panel(y, "y = A x"),
                              panel(aty, "A^T y (conv_transpose)"),
                              panel(result.x, "x_hat (deconvolve)")};
  cv::Mat strip;
  cv::hconcat(row, strip);
  cv::Mat titled(strip.rows + 26, strip.cols, CV_8U, cv::Scalar(255));
  strip.copyTo(titled(cv::Rect(0, 26, strip.cols, strip.rows)));
  char caption[160];
  std::snprintf(caption, sizeof caption, "%s  |x_hat - x|/|x| = %.1e", name.c_str(),
                relative(result.x, x));
  cv::putText(titled, caption, cv::Point(4, 18), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0), 1,
              cv::LINE_AA);
  return titled;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 2) {
      std::cerr << "usage: deconv_demo [OUT.png]\n";
      return 2;
    }
    const std::string out_path = argc > 1 ? argv[1] : "deconv_demo.png";
    const auto x = to_tensor(draw_image());
    // 5x5 Gaussian blur, sigma 0.7 (OpenCV's separable kernel): its spectrum stays positive, so
    // the zero-padded "same" conv is injective, if not well conditioned.
    const cv::Mat g = cv::getGaussianKernel(5, 0.7, CV_64F);
    const cv::Mat k2 = g * g.t();
    const auto kernel = torch::from_blob(k2.data, {1, 1, 5, 5}, torch::kFloat64).clone();

    zoo::DeconvolveOptions same;
    same.geometry.padding = {2, 2};
    same.tol = 1e-12;
    same.max_iters = 3000;
    zoo::DeconvolveOptions strided = same;
    strided.geometry.stride = {2, 2};
    strided.lambda = 1e-4;  // a little ridge: the minimum-norm solution is badly conditioned

    std::vector<cv::Mat> rows = {run_case("injective: blur, stride 1", x, kernel, same),
                                 run_case("not injective: blur, stride 2", x, kernel, strided)};
    cv::Mat sheet;
    cv::vconcat(rows, sheet);
    zoo::write_png(out_path, sheet);
    std::printf("wrote %s\n", out_path.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "deconv_demo: " << e.what() << "\n";
    return 1;
  }
}
