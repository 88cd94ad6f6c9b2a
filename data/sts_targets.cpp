#include "data/sts_targets.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace zoo {

torch::Tensor sparse_target_distribution(const torch::Tensor& scores, double min_score, int64_t num_classes) {
  if (num_classes < 2) throw std::invalid_argument("sparse_target_distribution: num_classes must be at least 2");
  if (scores.dim() != 1 || !scores.is_floating_point())
    throw std::invalid_argument("sparse_target_distribution: scores must be a 1-D floating-point tensor");
  const int64_t n = scores.size(0), last = num_classes - 1;
  const torch::Tensor y = scores.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const double* in = y.data_ptr<double>();
  torch::Tensor p = torch::zeros({n, num_classes}, torch::kDouble);
  auto rows = p.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i) {
    const double t = in[i] - min_score;
    if (!(t >= 0.0 && t <= static_cast<double>(last))) {  // also rejects NaN
      std::ostringstream msg;
      msg.precision(15);
      msg << "sparse_target_distribution: score " << in[i] << " (row " << i << ") outside [" << min_score << ", "
          << min_score + static_cast<double>(last) << "]";
      throw std::invalid_argument(msg.str());
    }
    auto row = rows[i];
    const auto f = static_cast<int64_t>(std::floor(t));
    if (f >= last) {
      row[last] = 1.0;  // the top class alone; f + 1 would be past the end
    } else {
      row[f] = static_cast<double>(f) + 1.0 - t;
      row[f + 1] = t - static_cast<double>(f);
    }
  }
  return p.to(scores.device(), scores.scalar_type(), /*non_blocking=*/false, /*copy=*/true);
}

torch::Tensor expected_score(const torch::Tensor& probabilities, double min_score) {
  TORCH_CHECK(probabilities.dim() == 2, "expected_score: probabilities must be [N, K], got ",
              probabilities.sizes());
  const torch::Tensor r = torch::arange(probabilities.size(1), probabilities.options()) + min_score;
  return probabilities.matmul(r);
}

}  // namespace zoo
