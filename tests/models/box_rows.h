// Boxes written out flat in a test, as an [N, 4] tensor: rows({x1, y1, x2, y2, ...}).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace zoo {

inline torch::Tensor rows(std::vector<float> v) { return torch::tensor(v).view({-1, 4}); }

}  // namespace zoo
