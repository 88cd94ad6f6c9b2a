#include "losses/masked_lm_loss.h"

namespace zoo {

torch::Tensor masked_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels,
                             const MaskedLmLossOptions& options) {
  const int64_t vocab = logits.size(-1);
  const torch::Tensor flat_logits = logits.reshape({-1, vocab});
  const torch::Tensor flat_labels = labels.reshape({-1});
  TORCH_CHECK(flat_logits.size(0) == flat_labels.size(0), "masked_lm_loss: ", flat_logits.size(0),
              " logit rows but ", flat_labels.size(0), " labels");
  const torch::Tensor kept = flat_labels != kIgnoreLabel;
  // Summed NLL over kept positions divided by max(1, count): 0 (not NaN) when nothing is kept.
  const torch::Tensor nll_sum = torch::nn::functional::cross_entropy(
      flat_logits, flat_labels,
      torch::nn::functional::CrossEntropyFuncOptions()
          .ignore_index(kIgnoreLabel)
          .reduction(torch::kSum)
          .label_smoothing(options.label_smoothing));
  return nll_sum / kept.sum().clamp_min(1).to(nll_sum.dtype());
}

}  // namespace zoo
