#pragma once
// STS metrics over a whole split: Pearson and Spearman (average ranks for ties) between predicted
// and gold scores, and their mean squared error.
#include <vector>

#include "train/task.h"

namespace zoo {

// Reads Task::predict's "score" [N] and the batch's gold "score" [N].
class StsEvaluator : public Evaluator {
 public:
  void reset() override { pred_.clear(), gold_.clear(); }
  void process(const Batch& batch, const Batch& outputs) override;
  Metrics summarize() override;

 private:
  std::vector<double> pred_, gold_;
};

}  // namespace zoo
