#include "data/drawing.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>

#include "data/hand_sample.h"

namespace zoo {

namespace {
// BGR per finger (thumb, index, middle, ring, little); the ground truth is drawn in white.
const std::array<cv::Scalar, 5> kFingerColours = {cv::Scalar(40, 40, 230), cv::Scalar(0, 200, 230),
                                                  cv::Scalar(60, 190, 60), cv::Scalar(230, 150, 30),
                                                  cv::Scalar(200, 60, 200)};
}  // namespace

void draw_skeleton(cv::Mat& img, const std::vector<cv::Point2d>& uv, bool ground_truth, int thickness) {
  constexpr int kShift = 4;
  const auto pt = [](const cv::Point2d& p) {
    const auto c = [](double v) { return cvRound(std::clamp(std::isfinite(v) ? v : -1e4, -1e4, 1e4) * 16); };
    return cv::Point(c(p.x), c(p.y));
  };
  const cv::Scalar white(255, 255, 255);
  for (const auto& [a, b] : kHandBones) {
    const cv::Scalar colour = ground_truth ? white : kFingerColours[static_cast<size_t>((b - 1) / 4)];
    cv::line(img, pt(uv[static_cast<size_t>(a)]), pt(uv[static_cast<size_t>(b)]), colour,
             ground_truth ? std::max(1, thickness / 2) : thickness, cv::LINE_AA, kShift);
  }
  for (int j = 0; j < kHandJoints; ++j) {
    const cv::Scalar colour = ground_truth || j == 0 ? white : kFingerColours[static_cast<size_t>((j - 1) / 4)];
    cv::circle(img, pt(uv[static_cast<size_t>(j)]), (ground_truth ? 1 : 2) * thickness * 16 / 2 + 8, colour,
               cv::FILLED, cv::LINE_AA, kShift);
  }
}

void draw_boxes(cv::Mat& image, const torch::Tensor& boxes, const cv::Scalar& colour, int thickness) {
  const auto b = boxes.to(torch::kCPU, torch::kFloat64).contiguous();
  for (int64_t i = 0; i < b.size(0); ++i)
    cv::rectangle(image, cv::Point2d(b[i][0].item<double>(), b[i][1].item<double>()),
                  cv::Point2d(b[i][2].item<double>(), b[i][3].item<double>()), colour, thickness, cv::LINE_AA);
}

}  // namespace zoo
