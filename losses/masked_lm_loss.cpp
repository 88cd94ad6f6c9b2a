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

std::pair<torch::Tensor, torch::Tensor> pad_masked_rows(const torch::Tensor& positions,
                                                        const torch::Tensor& labels, int64_t multiple) {
  TORCH_CHECK(multiple > 0 && positions.numel() == labels.numel(), "pad_masked_rows: ", positions.numel(),
              " positions, ", labels.numel(), " labels, multiple ", multiple);
  const int64_t pad = (multiple - positions.numel() % multiple) % multiple;
  if (pad == 0) return {positions, labels};
  return {torch::cat({positions, torch::zeros({pad}, positions.options())}),
          torch::cat({labels, torch::full({pad}, kIgnoreLabel, labels.options())})};
}

}  // namespace zoo
