#pragma once
// What tasks "keypoints" and "heatmap" share: hand images (generated, or a data set on disk),
// augmentation, the data-parallel batch stream, evaluation splits, the training set's pose
// statistics, the metrics and pictures, and an initial checkpoint. A hand task adds its model,
// its loss, predict and export.
//
// Targets and metrics (data/hand_batch.h): a 3D model predicts xyz_n = (xyz_mm - xyz_mm[wrist]) /
// |xyz_mm[middle_mcp] - xyz_mm[wrist]|; metrics map predictions back to millimetres with the
// ground truth root and scale (xyz_to_mm), so MPJPE is root-relative and scale-normalised.
//
// Pictures: every evaluation writes DIR/plots/pck_<split>.png (3D PCK curves, or 2D) and
// DIR/plots/examples_<split>.png (the first 16 held-out images with predicted, coloured, and
// ground-truth, white, skeletons); those of the last evaluation of a run or of `zoo eval` remain.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/hand_batch.h"
#include "train/config.h"
#include "train/task.h"
#include "train/tasks/hand/options.h"
#include "train/tasks/hand/pose_stats.h"

namespace zoo {

class HandTask : public Task {
 public:
  // coord_dims: 3 (root-relative xyz) or 2 (normalised uv), what the model predicts.
  HandTask(const Config& cfg, const std::string& run_dir, TaskData data, int64_t coord_dims);

  Json data_report() const override;
  PrimaryMetric primary_metric() const override;
  std::unique_ptr<Evaluator> make_evaluator(const std::string& split) override;
  void set_train_batch_stride(int64_t stride) override;
  // Batch i of the endless augmented stream (HandLoader: a pure function of train.seed and i),
  // cameras rotated upright (data/hand_batch.h rotate_to_upright_camera).
  Batch train_batch(int64_t index) override;
  // "val", or "train": unaugmented, every k-th training sample (how well the model fits).
  std::vector<Batch> eval_batches(const std::string& split) override;

 protected:
  // Loads init.checkpoint into the model when the run starts (call once the model exists).
  void load_initial_checkpoint(const Config& cfg);
  // The training set's pose statistics: computed once from eval.mean_pose_samples unaugmented
  // training samples spread over the set, cached in DIR/pose_stats.json.
  PoseStats pose_stats();
  // meta.json's "input": what an exported model expects.
  Json input_meta() const;

  std::string run_dir_;
  HandDataOptions o_;
  int64_t coord_dims_;
  uint64_t seed_ = 0;

 private:
  void note_training_skips();  // what a replaced loader skipped (see data_report)

  TaskData data_;
  int64_t batch_size_ = 32;
  HandSource train_source_, val_source_, stats_source_;
  Json stats_key_;  // what the pose statistics depend on (DIR/pose_stats.json is reused if it matches)
  std::optional<PoseStats> stats_;
  std::unique_ptr<HandLoader> loader_;
  int64_t next_index_ = -1;
  int64_t batch_stride_ = 1;
  std::vector<Batch> val_batches_, train_eval_batches_;
  std::map<int64_t, std::string> train_skipped_;
  std::vector<std::string> val_skipped_;
};

}  // namespace zoo
