#pragma once
// Picks the anchors that enter the RPN loss, torchvision 0.14's BalancedPositiveNegativeSampler
// (torchvision/models/detection/_utils.py; spec §5.5). Per image: up to
// int(batch_size_per_image * positive_fraction) positives, then negatives fill the rest of the
// batch (so an image with few positives still gets batch_size_per_image anchors when it has
// enough negatives); ignored anchors are never sampled. Both draws use torch::randperm on the
// default generator in torchvision's call order, so torch::manual_seed makes a run reproducible.
#include <torch/torch.h>

#include <vector>

namespace zoo {

// Sampled anchor indices of one image, int64, ascending (torchvision hands the sample on as
// masks, so only the set matters, not the draw order).
struct SampledIndices {
  torch::Tensor positive;
  torch::Tensor negative;
};

class BalancedPositiveNegativeSampler {
 public:
  explicit BalancedPositiveNegativeSampler(int64_t batch_size_per_image = 256,
                                           double positive_fraction = 0.5);

  // labels: one [N_i] tensor per image, 1 = positive, 0 = negative, -1 = ignored (any dtype;
  // >= 1 counts as positive, as in torchvision).
  std::vector<SampledIndices> operator()(const std::vector<torch::Tensor>& labels) const;

  int64_t batch_size_per_image() const { return batch_size_per_image_; }
  double positive_fraction() const { return positive_fraction_; }

 private:
  int64_t batch_size_per_image_;
  double positive_fraction_;
};

// A sample chosen by the caller instead of drawn (golden tests, replaying a run): checks that
// every positive index is labelled >= 1 and every negative 0, without duplicates, and returns
// them sorted, on the labels' device. The quotas are not enforced.
SampledIndices fixed_sample(const torch::Tensor& labels, const torch::Tensor& positive,
                            const torch::Tensor& negative);

}  // namespace zoo
