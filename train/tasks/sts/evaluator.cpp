#include "train/tasks/sts/evaluator.h"

#include <algorithm>

#include "train/metrics.h"

namespace zoo {

void StsEvaluator::process(const Batch& batch, const Batch& out) {
  const auto p = out.at("score").to(torch::kCPU, torch::kFloat64).contiguous();
  const auto g = batch.at("score").to(torch::kCPU, torch::kFloat64).contiguous();
  pred_.insert(pred_.end(), p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
  gold_.insert(gold_.end(), g.data_ptr<double>(), g.data_ptr<double>() + g.numel());
}

Metrics StsEvaluator::summarize() {
  double se = 0;
  for (size_t i = 0; i < pred_.size(); ++i) se += (pred_[i] - gold_[i]) * (pred_[i] - gold_[i]);
  return {{"pearson", pearson(pred_, gold_)},
          {"spearman", spearman(pred_, gold_)},
          {"mse", se / std::max<size_t>(1, pred_.size())},
          {"pairs", static_cast<double>(pred_.size())}};
}

}  // namespace zoo
