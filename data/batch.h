#pragma once
// The batch every loader builds and every task consumes: named dense tensors. The key names are
// constants beside each loader (hand_key:: in data/hand_batch.h, detection_key:: in
// data/detection_batch.h, the STS and MLM keys in their tasks).
#include <torch/torch.h>

#include <map>
#include <string>

namespace zoo {

using Batch = std::map<std::string, torch::Tensor>;

}  // namespace zoo
