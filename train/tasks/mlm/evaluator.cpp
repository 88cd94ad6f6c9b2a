#include "train/tasks/mlm/evaluator.h"

#include <algorithm>
#include <cmath>

namespace zoo {

void MlmEvaluator::process(const Batch&, const Batch& out) {
  const torch::Tensor logits = out.at("logits").to(torch::kFloat64);
  const torch::Tensor targets = out.at("targets");
  if (targets.numel() == 0) return;
  nll_ += torch::nn::functional::cross_entropy(
              logits, targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
              .item<double>();
  count_ += targets.numel();
  correct_ += (logits.argmax(-1) == targets).sum().item<int64_t>();
  const auto top = std::get<1>(logits.topk(std::min<int64_t>(5, logits.size(1)), -1));
  top5_ += (top == targets.unsqueeze(1)).any(1).sum().item<int64_t>();
}

Metrics MlmEvaluator::summarize() {
  const double n = std::max<int64_t>(1, count_);
  return {{"perplexity", std::exp(nll_ / n)}, {"loss", nll_ / n},
          {"accuracy", correct_ / n},        {"top5_accuracy", top5_ / n},
          {"masked_tokens", static_cast<double>(count_)}};
}

}  // namespace zoo
