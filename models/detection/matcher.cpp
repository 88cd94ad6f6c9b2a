#include "models/detection/matcher.h"

#include <tuple>

namespace zoo {

Matcher::Matcher(MatcherOptions options) : options_(options) {
  TORCH_CHECK(options_.low_threshold <= options_.high_threshold, "Matcher: low_threshold (",
              options_.low_threshold, ") must be <= high_threshold (", options_.high_threshold,
              ")");
}

torch::Tensor Matcher::operator()(const torch::Tensor& match_quality) const {
  TORCH_CHECK(match_quality.dim() == 2, "Matcher: need an [M, N] quality matrix, got ",
              match_quality.sizes());
  const auto long_opts = match_quality.options().dtype(torch::kLong);
  if (match_quality.size(0) == 0)
    return torch::full({match_quality.size(1)}, kBelowLowThreshold, long_opts);
  if (match_quality.size(1) == 0) return torch::empty({0}, long_opts);

  torch::Tensor matched_vals, all_matches;
  std::tie(matched_vals, all_matches) = match_quality.max(0);
  auto matches = all_matches.clone();
  matches.masked_fill_(matched_vals < options_.low_threshold, kBelowLowThreshold);
  matches.masked_fill_(
      (matched_vals >= options_.low_threshold) & (matched_vals < options_.high_threshold),
      kBetweenThresholds);
  if (!options_.allow_low_quality_matches) return matches;

  // Anchors that are some gt's best match, ties included, keep their step-1 gt.
  const auto highest_per_gt = std::get<0>(match_quality.max(1)).unsqueeze(1);
  auto is_best = match_quality == highest_per_gt;
  if (options_.zero_iou_guard) is_best &= highest_per_gt > 0;
  return torch::where(is_best.any(0), all_matches, matches);
}

}  // namespace zoo
