#pragma once
// Pictures of predictions, shared by the tasks' example images and `zoo predict`.
#include <torch/torch.h>

#include <opencv2/core.hpp>

#include <vector>

namespace zoo {

// A hand skeleton (21 joints in pixels) on a BGR image: coloured per finger, or white for the
// ground truth. Sub-pixel precise; points far outside are clamped (cv::line clips).
void draw_skeleton(cv::Mat& img, const std::vector<cv::Point2d>& uv, bool ground_truth, int thickness);

// Boxes [n, 4] (x1, y1, x2, y2 pixels) as rectangles.
void draw_boxes(cv::Mat& image, const torch::Tensor& boxes, const cv::Scalar& colour, int thickness);

}  // namespace zoo
