#pragma once
// `zoo predict`'s output: an export directory run through zoo::infer on command-line inputs, so
// that the command line shows exactly what a program linking the library gets.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <torch/types.h>

namespace zoo {

struct PredictOptions {
  int64_t top_k = 5;         // mlm: candidates per [MASK]
  std::string pictures_dir;  // keypoints, heatmap, rpn: where the drawn predictions go
  torch::Device device = torch::kCPU;
};

// Inputs: mlm texts with [MASK]; sts sentence pairs (A1 B1 A2 B2 ...); image paths otherwise.
// Throws UserError naming the input or the file.
void predict_with_export(const std::string& export_dir, const std::vector<std::string>& inputs,
                         const PredictOptions& options, std::ostream& out);
// zoo predict (--run DIR | --export DIR) INPUT...
int predict_command(int argc, char** argv);

}  // namespace zoo
