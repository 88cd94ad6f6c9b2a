#include "train/tasks/hand/evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "data/drawing.h"
#include "data/hand_batch.h"
#include "data/image_file.h"
#include "train/plot.h"

namespace zoo {

namespace {

using namespace hand_key;
constexpr int kExampleCount = 16;  // images in examples_<split>.png

std::vector<cv::Point2d> points_of(const torch::Tensor& t) {  // [21, 2] -> points
  const auto c = t.to(torch::kCPU, torch::kDouble).contiguous();
  std::vector<cv::Point2d> out;
  for (int64_t j = 0; j < c.size(0); ++j) out.emplace_back(c[j][0].item<double>(), c[j][1].item<double>());
  return out;
}

// uv pixels = K · xyz / z for [B, 21, 3] mm and K [B, 3, 3]; z is kept >= 1 mm so that a
// prediction behind the camera gives a far-off point rather than inf/NaN.
torch::Tensor project_mm(const torch::Tensor& xyz_mm, const torch::Tensor& K) {
  const auto q = xyz_mm.matmul(K.transpose(1, 2));
  const auto z = q.narrow(-1, 2, 1).clamp_min(1.0);
  return q.narrow(-1, 0, 2) / z;
}

// Blends the keypoints' probability maps [K, h, w] (their maximum, scaled to the peak) over the
// image as a colour map, so the pictures show where each heatmap put its mass.
void overlay_heatmaps(cv::Mat& image, const torch::Tensor& maps) {
  auto peak = std::get<0>(maps.max(0));
  peak = (peak / peak.max().clamp_min(1e-12) * 255).to(torch::kUInt8).contiguous();
  cv::Mat gray(static_cast<int>(peak.size(0)), static_cast<int>(peak.size(1)), CV_8UC1, peak.data_ptr<uint8_t>());
  cv::Mat resized, colour;
  cv::resize(gray, resized, image.size(), 0, 0, cv::INTER_LINEAR);
  cv::applyColorMap(resized, colour, cv::COLORMAP_JET);
  cv::addWeighted(image, 0.55, colour, 0.45, 0.0, image);
}

}  // namespace

void KeypointsEvaluator::process(const Batch& batch, const Batch& out) {
  const auto cpu = [](const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat32); };
  const auto pred = cpu(out.at(kKeypointsOutput));
  const auto image = batch.at(kImage);
  const int64_t B = pred.size(0), H = image.size(2), W = image.size(3);
  const auto vis = cpu(batch.at(kVisible)), K = cpu(batch.at(kK));
  const auto gt_px = uv_to_pixels(cpu(batch.at(kUv)), W, H);
  torch::Tensor pred_px, gt_mm, pred_mm;
  if (dims_ == 3) {
    const auto root = cpu(batch.at(kRootMm)), scale = cpu(batch.at(kScaleMm));
    gt_mm = xyz_to_mm(cpu(batch.at(kXyz)), root, scale);
    pred_mm = xyz_to_mm(pred, root, scale);
    metrics_.feed(gt_mm, pred_mm, vis);
    // 2D error of the 3D prediction: projected with the true root, scale and intrinsics.
    pred_px = project_mm(pred_mm, K);
    metrics_.feed_2d(gt_px, pred_px, vis);
    const auto mean_mm = xyz_to_mm(stats_.mean_xyz.unsqueeze(0).expand({B, kHandJoints, 3}), root, scale);
    baseline_.feed(gt_mm, mean_mm, vis);
    baseline_.feed_2d(gt_px, project_mm(mean_mm, K), vis);
  } else {
    pred_px = uv_to_pixels(pred, W, H);
    metrics_.feed_2d(gt_px, pred_px, vis);
    baseline_.feed_2d(gt_px, uv_to_pixels(stats_.mean_uv.unsqueeze(0).expand({B, kHandJoints, 2}), W, H), vis);
  }
  for (int64_t b = 0; b < B && static_cast<int>(examples_.size()) < kExampleCount && !plots_dir_.empty(); ++b) {
    const auto m = vis[b] > 0;
    const auto err = dims_ == 3 ? (gt_mm[b] - pred_mm[b]).norm(2, -1) : (gt_px[b] - pred_px[b]).norm(2, -1);
    const double mean_err = m.any().item<bool>() ? err.index({m}).mean().item<double>() : NAN;
    cv::Mat picture = tensor_to_image(image[b]);
    if (out.count(kHeatmapsOutput)) overlay_heatmaps(picture, cpu(out.at(kHeatmapsOutput)[b]));
    examples_.push_back({picture, points_of(gt_px[b]), points_of(pred_px[b]), mean_err});
  }
}

Metrics KeypointsEvaluator::summarize() {
  const KeypointEvalSummary s = metrics_.summary(), b = baseline_.summary();
  Metrics m;
  if (dims_ == 3) {
    m = {{"mpjpe_mm", s.xyz.mean},
         {"pck_auc", s.xyz.auc},
         {"pa_mpjpe_mm", s.xyz_aligned.mean},
         {"pa_pck_auc", s.xyz_aligned.auc},
         {"epe_2d_px", s.uv.mean},
         {"mean_pose_mpjpe_mm", b.xyz.mean},
         {"mean_pose_pck_auc", b.xyz.auc},
         {"mean_pose_pa_mpjpe_mm", b.xyz_aligned.mean}};
  } else {
    m = {{"epe_2d_px", s.uv.mean}, {"pck_2d_auc", s.uv.auc}, {"mean_pose_epe_2d_px", b.uv.mean}};
  }
  if (!plots_dir_.empty()) write_pictures(s);
  return m;
}

void KeypointsEvaluator::write_pictures(const KeypointEvalSummary& s) {
  std::filesystem::create_directories(plots_dir_);
  const std::string& split = split_;
  write_pck_plot(plots_dir_ + "/pck_" + split + ".png", s, dims_ == 2);
  if (examples_.empty()) return;
  const int tile = std::max(192, examples_[0].image.cols), cols = 4;
  const int rows = (static_cast<int>(examples_.size()) + cols - 1) / cols;
  cv::Mat grid(rows * tile, cols * tile, CV_8UC3, cv::Scalar(32, 32, 32));
  for (size_t i = 0; i < examples_.size(); ++i) {
    const Example& e = examples_[i];
    const double f = static_cast<double>(tile) / std::max(e.image.cols, e.image.rows);
    cv::Mat big;
    cv::resize(e.image, big, cv::Size(), f, f, cv::INTER_LINEAR);
    const auto scaled = [f](std::vector<cv::Point2d> pts) {
      for (auto& p : pts) p = (p + cv::Point2d(0.5, 0.5)) * f - cv::Point2d(0.5, 0.5);
      return pts;
    };
    draw_skeleton(big, scaled(e.gt), true, 2);
    draw_skeleton(big, scaled(e.pred), false, 2);
    char caption[48];
    std::snprintf(caption, sizeof caption, dims_ == 3 ? "%.1f mm" : "%.1f px", e.error);
    cv::putText(big, caption, cv::Point(6, 18), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
    cv::putText(big, caption, cv::Point(6, 18), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(255, 255, 255), 1,
                cv::LINE_AA);
    const int r = static_cast<int>(i) / cols, c = static_cast<int>(i) % cols;
    big(cv::Rect(0, 0, std::min(tile, big.cols), std::min(tile, big.rows)))
        .copyTo(grid(cv::Rect(c * tile, r * tile, std::min(tile, big.cols), std::min(tile, big.rows))));
  }
  write_png(plots_dir_ + "/examples_" + split + ".png", grid);
}

}  // namespace zoo
