#pragma once
// What the torch.save reader and writer share: Python's torch.save writes a zip of data.pkl, a
// pickle whose tensors refer by key to raw little-endian records data/<key>, one per storage;
// storage types appear in the pickle as globals such as torch.FloatStorage.
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace zoo::torch_save {

inline const std::vector<std::pair<std::string, torch::Dtype>>& storage_types() {
  static const std::vector<std::pair<std::string, torch::Dtype>> types = {
      {"FloatStorage", torch::kFloat}, {"DoubleStorage", torch::kDouble},
      {"HalfStorage", torch::kHalf},   {"BFloat16Storage", torch::kBFloat16},
      {"LongStorage", torch::kLong},   {"IntStorage", torch::kInt},
      {"ShortStorage", torch::kShort}, {"CharStorage", torch::kChar},
      {"ByteStorage", torch::kByte},   {"BoolStorage", torch::kBool}};
  return types;
}

}  // namespace zoo::torch_save
