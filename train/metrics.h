#pragma once
// Correlation metrics for graded predictions (STS: Pearson is the official SemEval metric,
// Spearman is reported alongside it for GLUE STS-B). Computed in double over the whole set.
#include <vector>

namespace zoo {

// Pearson r = sum (x - mean x)(y - mean y) / sqrt(sum (x - mean x)^2 sum (y - mean y)^2), with
// the population sums on both sides (treelstm.pytorch's n - 1 / n mix reports r (n - 1) / n).
// NaN when fewer than 2 values, when either side is constant (undefined, as in scipy) or when a
// value is NaN. Throws std::invalid_argument when the sizes differ.
double pearson(const std::vector<double>& x, const std::vector<double>& y);

// 1-based ranks; tied values get the mean of the ranks they span (scipy rankdata "average"):
// {3, 1, 3} -> {2.5, 1, 2.5}. Throws std::invalid_argument on NaN (it has no rank).
std::vector<double> average_ranks(const std::vector<double>& v);

// Pearson correlation of the average ranks. NaN under the same conditions as pearson (a NaN
// value makes the result NaN instead of throwing, so a diverged model still gets a report).
double spearman(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace zoo
