#include "models/detection/balanced_sampler.h"

#include <algorithm>

namespace zoo {

BalancedPositiveNegativeSampler::BalancedPositiveNegativeSampler(int64_t batch_size_per_image,
                                                                 double positive_fraction)
    : batch_size_per_image_(batch_size_per_image), positive_fraction_(positive_fraction) {
  TORCH_CHECK(batch_size_per_image > 0 && positive_fraction >= 0 && positive_fraction <= 1,
              "BalancedPositiveNegativeSampler: need batch_size_per_image > 0 and "
              "positive_fraction in [0, 1], got ",
              batch_size_per_image, " and ", positive_fraction);
}

std::vector<SampledIndices> BalancedPositiveNegativeSampler::operator()(
    const std::vector<torch::Tensor>& labels) const {
  std::vector<SampledIndices> out;
  for (const auto& l : labels) {
    TORCH_CHECK(l.dim() == 1, "BalancedPositiveNegativeSampler: labels must be [N], got ",
                l.sizes());
    const auto positive = torch::nonzero(l >= 1).squeeze(1);
    const auto negative = torch::nonzero(l == 0).squeeze(1);
    // int() truncation of batch * fraction, as torchvision.
    const auto quota =
        static_cast<int64_t>(static_cast<double>(batch_size_per_image_) * positive_fraction_);
    const int64_t num_pos = std::min(positive.numel(), quota);
    const int64_t num_neg = std::min(negative.numel(), batch_size_per_image_ - num_pos);
    const auto long_opts = l.options().dtype(torch::kLong);
    const auto perm_pos = torch::randperm(positive.numel(), long_opts).narrow(0, 0, num_pos);
    const auto perm_neg = torch::randperm(negative.numel(), long_opts).narrow(0, 0, num_neg);
    out.push_back({std::get<0>(positive.index({perm_pos}).sort()),
                   std::get<0>(negative.index({perm_neg}).sort())});
  }
  return out;
}

SampledIndices fixed_sample(const torch::Tensor& labels, const torch::Tensor& positive,
                            const torch::Tensor& negative) {
  TORCH_CHECK(labels.dim() == 1, "fixed_sample: labels must be [N], got ", labels.sizes());
  const auto check = [&](const torch::Tensor& idx, bool want_positive) {
    const char* what = want_positive ? "positive" : "negative";
    TORCH_CHECK(idx.dim() == 1, "fixed_sample: ", what, " indices must be [K], got ", idx.sizes());
    auto sorted = std::get<0>(idx.to(labels.device(), torch::kLong).sort());
    if (sorted.numel() == 0) return sorted;
    TORCH_CHECK(sorted[0].item<int64_t>() >= 0 && sorted[-1].item<int64_t>() < labels.size(0),
                "fixed_sample: ", what, " index out of range [0, ", labels.size(0), ")");
    TORCH_CHECK(!(sorted.slice(0, 1) == sorted.slice(0, 0, -1)).any().item<bool>(),
                "fixed_sample: duplicate ", what, " indices");
    const auto l = labels.index({sorted});
    TORCH_CHECK(want_positive ? (l >= 1).all().item<bool>() : (l == 0).all().item<bool>(),
                "fixed_sample: a ", what, " index points at an anchor labelled otherwise");
    return sorted;
  };
  return {check(positive, true), check(negative, false)};
}

}  // namespace zoo
