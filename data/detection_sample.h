#pragma once
// The labels of one object-detection image: what every detection loader returns, the synthetic
// generator fills in and the batcher consumes. No pixels: images are decoded one at a time
// (load_detection_image), so a data set's labels stay small in memory.
//
// Box convention (torchvision's): (x1, y1, x2, y2) in pixels of the image on disk, continuous
// coordinates in which pixel (col, row) covers [col, col + 1) x [row, row + 1); a box covering
// pixel columns a..b inclusive has x1 = a, x2 = b + 1. The whole image is [0, W] x [0, H].
// Loaders guarantee 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height for every box they return.
#include <array>
#include <string>
#include <vector>

namespace zoo {

struct DetectionSample {
  std::string image_path;                   // file on disk; "synthetic:<seed>:<index>" when generated
  int width = 0, height = 0;                // of the image on disk, pixels
  std::vector<std::array<float, 4>> boxes;  // x1, y1, x2, y2 as above; may be empty (no object)
  std::vector<int> labels;                  // one per box, 1..K; 0 is kept free for the background
};

}  // namespace zoo
