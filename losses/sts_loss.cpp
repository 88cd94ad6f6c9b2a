#include "losses/sts_loss.h"

namespace zoo {

torch::Tensor sts_distribution_loss(const torch::Tensor& logits, const torch::Tensor& target_distribution) {
  TORCH_CHECK(logits.dim() == 2 && logits.sizes() == target_distribution.sizes(),
              "sts_distribution_loss: logits ", logits.sizes(), " and target ", target_distribution.sizes(),
              " must both be [N, K]");
  TORCH_CHECK(logits.size(0) > 0, "sts_distribution_loss: empty batch");
  const torch::Tensor log_q = torch::log_softmax(logits, /*dim=*/1);
  const torch::Tensor p = target_distribution.detach().to(log_q.dtype());
  // xlogy(0, 0) = 0: the p log p term of a zero entry vanishes instead of giving 0 * -inf.
  const torch::Tensor per_entry = torch::xlogy(p, p) - p * log_q;
  return per_entry.sum() / static_cast<double>(logits.size(0));
}

torch::Tensor sts_regression_loss(const torch::Tensor& prediction, const torch::Tensor& scores) {
  TORCH_CHECK(prediction.sizes() == scores.sizes(), "sts_regression_loss: prediction ", prediction.sizes(),
              " and scores ", scores.sizes(), " must have the same shape");
  return torch::mse_loss(prediction, scores.detach().to(prediction.dtype()));
}

}  // namespace zoo
