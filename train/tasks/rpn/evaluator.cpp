#include "train/tasks/rpn/evaluator.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>

#include "data/detection_batch.h"
#include "data/drawing.h"
#include "data/hand_batch.h"
#include "data/image_file.h"
#include "models/detection/box_ops.h"
#include "models/detection/rpn.h"
#include "train/plot.h"

namespace zoo {

namespace {

using namespace detection_key;
using namespace rpn_output;
constexpr int kPictureCount = 8;

// Top proposals in colour (best first: red to blue), ground truth in white, on the unpadded image.
cv::Mat proposals_picture(const torch::Tensor& image_chw, const ImageSize& size, const torch::Tensor& gt,
                          const torch::Tensor& proposals, int64_t top) {
  cv::Mat picture = tensor_to_image(image_chw.narrow(1, 0, size[0]).narrow(2, 0, size[1]).cpu());
  draw_boxes(picture, gt, cv::Scalar(255, 255, 255), 3);
  const int64_t n = std::min(top, proposals.size(0));
  for (int64_t i = n - 1; i >= 0; --i) {
    const double f = n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0;
    draw_boxes(picture, proposals.narrow(0, i, 1), cv::Scalar(255 * f, 64, 255 * (1 - f)), 1);
  }
  return picture;
}

}  // namespace

void RpnEvaluator::process(const Batch& batch, const Batch& out) {
  const auto gt = gt_boxes_of(batch);
  const auto n = out.at(kNumProposals).cpu(), nu = untrained_ ? out.at(kNumUntrained).cpu() : torch::Tensor();
  const auto sizes = batch.at(kSizes).cpu();
  for (size_t i = 0; i < gt.size(); ++i, ++images_) {
    const auto b = static_cast<int64_t>(i);
    const auto proposals = out.at(kProposals)[b].narrow(0, 0, n[b].item<int64_t>()).cpu();
    trained_.add(gt[i].cpu(), proposals);
    random_.add(gt[i].cpu(), out.at(kRandom)[b].cpu());
    if (untrained_) untrained_counter_.add(gt[i].cpu(), out.at(kUntrained)[b].narrow(0, 0, nu[b].item<int64_t>()).cpu());
    if (!plots_dir_.empty() && static_cast<int>(pictures_.size()) < kPictureCount)
      pictures_.push_back(proposals_picture(batch.at(kImages)[b], {sizes[b][0].item<int64_t>(), sizes[b][1].item<int64_t>()},
                                            gt[i], proposals, 10));
  }
}

Metrics RpnEvaluator::summarize() {
  Metrics m;
  trained_.write(m, "");
  random_.write(m, "random_");
  if (untrained_) untrained_counter_.write(m, "untrained_");
  m["gt_boxes"] = static_cast<double>(trained_.best_iou[0].size());
  m["images"] = static_cast<double>(images_);
  if (!pictures_.empty()) write_grid();
  return m;
}

void RpnEvaluator::write_grid() {
  const int tile = 256, cols = 4, rows = (static_cast<int>(pictures_.size()) + cols - 1) / cols;
  cv::Mat grid(rows * tile, cols * tile, CV_8UC3, cv::Scalar(32, 32, 32));
  for (size_t i = 0; i < pictures_.size(); ++i) {
    const cv::Mat& p = pictures_[i];
    const double f = static_cast<double>(tile) / std::max(p.cols, p.rows);
    cv::Mat small;
    cv::resize(p, small, cv::Size(), f, f, cv::INTER_AREA);
    const int r = static_cast<int>(i) / cols, c = static_cast<int>(i) % cols;
    small.copyTo(grid(cv::Rect(c * tile, r * tile, small.cols, small.rows)));
  }
  std::filesystem::create_directories(plots_dir_);
  write_png(plots_dir_ + "/proposals_" + split_ + ".png", grid);
}

}  // namespace zoo
