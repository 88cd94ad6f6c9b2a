#pragma once
// Metrics of the hand tasks over a whole split (train/keypoint_metrics.h): 3D MPJPE, PCK AUC and
// their Procrustes-aligned forms, and the 2D error of the projected prediction (coord_dims 3);
// or the 2D error and PCK AUC (coord_dims 2); each next to the mean training pose's as a
// baseline. Every evaluation also draws DIR/plots/pck_<split>.png and examples_<split>.png.
#include <opencv2/core.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "train/keypoint_metrics.h"
#include "train/task.h"
#include "train/tasks/hand/pose_stats.h"

namespace zoo {

// Task::predict's keys: "keypoints" [B, 21, D] (normalised xyz or uv, as the batch's), and for
// task heatmap "heatmaps" [B, 21, h, w], overlaid on the pictures.
inline constexpr char kKeypointsOutput[] = "keypoints", kHeatmapsOutput[] = "heatmaps";

class KeypointsEvaluator : public Evaluator {
 public:
  // plots_dir empty: no pictures; split names them.
  KeypointsEvaluator(int64_t coord_dims, PoseStats stats, std::string plots_dir, std::string split)
      : dims_(coord_dims), stats_(std::move(stats)), plots_dir_(std::move(plots_dir)), split_(std::move(split)) {}

  void reset() override {
    metrics_.reset();
    baseline_.reset();
    examples_.clear();
  }

  void process(const Batch& batch, const Batch& outputs) override;
  Metrics summarize() override;

 private:
  struct Example {
    cv::Mat image;
    std::vector<cv::Point2d> gt, pred;
    double error;
  };

  void write_pictures(const KeypointEvalSummary& s);

  int64_t dims_;
  PoseStats stats_;
  std::string plots_dir_;
  std::string split_;
  KeypointMetrics metrics_, baseline_;
  std::vector<Example> examples_;
};

}  // namespace zoo
