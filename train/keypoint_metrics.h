#pragma once
// Hand-keypoint evaluation as in FreiHAND's eval.py / EvalUtil (spec §4.2): per-keypoint lists of
// end-point errors, mean / "median" EPE, PCK curve and AUC, unaligned and after Procrustes
// alignment (align_w_scale), plus 2D end-point error in pixels. All arithmetic in double.
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

namespace zoo {

// PCK thresholds linspace(min, max, steps), in the unit of the fed coordinates. The 3D default is
// FreiHAND's 0-5 cm expressed in mm (we feed mm; FreiHAND itself feeds metres with 0-0.05).
struct PckOptions {
  double min = 0.0;
  double max = 50.0;
  int64_t steps = 100;
};

// FreiHAND get_measures() output. Keypoints with no data are skipped in every mean (their
// per-keypoint entries are NaN); with no data at all the summaries are NaN.
struct KeypointMeasures {
  int64_t count = 0;      // distances fed (visible keypoints over all samples)
  double mean = NAN;      // mean over keypoints of each keypoint's mean distance (MPJPE)
  double median = NAN;    // mean over keypoints of per-keypoint medians (not the global median)
  double auc = NAN;       // mean over keypoints of trapz(PCK_k, t) / (t_max - t_min)
  std::vector<double> thresholds;  // t
  std::vector<double> pck;         // mean over keypoints of PCK_k(t) = fraction of d <= t
  std::vector<double> per_keypoint_mean, per_keypoint_median, per_keypoint_auc;
};

// EvalUtil: one list of distances per keypoint.
class KeypointDistances {
 public:
  explicit KeypointDistances(int64_t num_keypoints);
  void add(int64_t keypoint, double distance);
  KeypointMeasures measures(const PckOptions& pck) const;
  int64_t num_keypoints() const { return static_cast<int64_t>(lists_.size()); }
  void clear();

 private:
  std::vector<std::vector<double>> lists_;
};

struct KeypointEvalOptions {
  int64_t num_keypoints = 21;
  PckOptions pck_3d;                       // mm
  PckOptions pck_2d{0.0, 30.0, 100};       // px (hand3d's 2D PCK range; FreiHAND has no 2D eval)
};

struct KeypointEvalSummary {
  KeypointMeasures xyz;          // unaligned camera-space error (MPJPE = xyz.mean)
  KeypointMeasures xyz_aligned;  // after procrustes_align (PA-MPJPE = xyz_aligned.mean)
  KeypointMeasures uv;           // 2D end-point error in pixels (EPE = uv.mean)
};

// The accumulator. Inputs may be any floating dtype and device; they are copied to CPU double.
class KeypointMetrics {
 public:
  explicit KeypointMetrics(const KeypointEvalOptions& options = {});
  // gt, pred [K, 3] (one sample) or [B, K, 3]; visible [K] / [B, K], > 0 = visible, undefined =
  // all visible. Feeds the unaligned and the Procrustes-aligned errors; the alignment is fitted
  // on the visible keypoints only (FreiHAND's data has all visible) and needs at least one.
  void feed(const torch::Tensor& gt, const torch::Tensor& pred, const torch::Tensor& visible = {});
  // Same shapes with D = 2 (pixels): end-point error only, no alignment.
  void feed_2d(const torch::Tensor& gt, const torch::Tensor& pred,
               const torch::Tensor& visible = {});
  KeypointEvalSummary summary() const;
  void reset();
  const KeypointEvalOptions& options() const { return options_; }

 private:
  KeypointEvalOptions options_;
  KeypointDistances xyz_, xyz_aligned_, uv_;
};

// FreiHAND align_w_scale: centre both sets, divide each by its Frobenius norm (+1e-8), SVD
// gt_n^T pred_n = U S V^T, R = U V^T, s = trace S; returns (pred_n R^T) s |gt_c| + mean(gt).
// Reflections are allowed (det R = -1 is not corrected, unlike Umeyama). gt, pred [N, D]; the
// result is pred aligned to gt, [N, D] double. With fit_mask [N] (> 0 = use), the transform is
// fitted on those rows only and applied to all rows.
torch::Tensor procrustes_align(const torch::Tensor& gt, const torch::Tensor& pred,
                               const torch::Tensor& fit_mask = {});

// PNG of the PCK curves (train/plot.h): the unaligned and aligned 3D curves, or with
// image_plane the 2D curve; curves without data are left out. AUCs go in the legend.
void write_pck_plot(const std::string& path, const KeypointEvalSummary& summary,
                    bool image_plane = false);

}  // namespace zoo
