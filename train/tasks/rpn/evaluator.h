#pragma once
// Proposal recall over a whole split: recall at IoU 0.5 and 0.7 of the top 100 / 300 / 1000
// proposals and average recall (IoU 0.5:0.95, as COCO's AR) at 100, next to two baselines on
// the same images: random anchors ("random_") and the untrained network's ("untrained_"). Also
// draws DIR/plots/proposals_<split>.png (top proposals in colour, ground truth in white).
#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <algorithm>
#include <vector>

#include "models/detection/box_ops.h"
#include "train/task.h"

namespace zoo {

// Task::predict's keys: "proposals" [B, N, 4] (zero rows past "num_proposals" [B]), "scores"
// [B, N], "random_anchors" [B, N, 4] (the baseline's), and with the untrained baseline
// "untrained_proposals" [B, N, 4] and "num_untrained" [B].
namespace rpn_output {
inline constexpr char kProposals[] = "proposals", kNumProposals[] = "num_proposals", kScores[] = "scores",
                      kRandom[] = "random_anchors", kUntrained[] = "untrained_proposals",
                      kNumUntrained[] = "num_untrained";
}  // namespace rpn_output

// The numbers of top proposals recall is measured at.
inline constexpr std::array<int64_t, 3> kTopN = {100, 300, 1000};

// Recall of ground-truth boxes by ranked candidate boxes, accumulated over images.
struct RecallCounter {
  std::vector<std::vector<double>> best_iou = std::vector<std::vector<double>>(kTopN.size());  // per top-n, per gt
  void add(const torch::Tensor& gt, const torch::Tensor& ranked) {
    if (gt.size(0) == 0) return;
    const auto iou = ranked.size(0) > 0 ? box_iou(gt.to(torch::kFloat32), ranked.to(torch::kFloat32))
                                        : torch::zeros({gt.size(0), 0});
    for (size_t k = 0; k < kTopN.size(); ++k) {
      const int64_t n = std::min(kTopN[k], iou.size(1));
      const auto best = n > 0 ? std::get<0>(iou.narrow(1, 0, n).max(1)) : torch::zeros({gt.size(0)});
      for (int64_t g = 0; g < gt.size(0); ++g) best_iou[k].push_back(best[g].item<double>());
    }
  }
  double recall(size_t k, double threshold) const {
    if (best_iou[k].empty()) return 0;
    const auto hits = std::count_if(best_iou[k].begin(), best_iou[k].end(), [&](double v) { return v >= threshold; });
    return static_cast<double>(hits) / static_cast<double>(best_iou[k].size());
  }
  double average_recall(size_t k) const {  // IoU 0.5:0.05:0.95, as COCO's AR
    double sum = 0;
    for (int t = 0; t < 10; ++t) sum += recall(k, 0.5 + 0.05 * t);
    return sum / 10;
  }
  void write(Metrics& m, const std::string& prefix) const {
    for (size_t k = 0; k < kTopN.size(); ++k) {
      const std::string n = std::to_string(kTopN[k]);
      m[prefix + "recall" + n + "_iou50"] = recall(k, 0.5);
      m[prefix + "recall" + n + "_iou70"] = recall(k, 0.7);
    }
    m[prefix + "ar100"] = average_recall(0);
  }
};

class RpnEvaluator : public Evaluator {
 public:
  // untrained: the outputs carry the untrained baseline; plots_dir empty: no pictures; split names them.
  RpnEvaluator(bool untrained, std::string plots_dir, std::string split)
      : untrained_(untrained), plots_dir_(std::move(plots_dir)), split_(std::move(split)) {}
  void reset() override {
    trained_ = random_ = untrained_counter_ = RecallCounter();
    pictures_.clear();
    images_ = 0;
  }
  void process(const Batch& batch, const Batch& outputs) override;
  Metrics summarize() override;

 private:
  void write_grid();

  bool untrained_;
  std::string plots_dir_;
  std::string split_;
  RecallCounter trained_, random_, untrained_counter_;
  std::vector<cv::Mat> pictures_;
  int64_t images_ = 0;
};

}  // namespace zoo
