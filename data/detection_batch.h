#pragma once
// Detection images -> the batch a Faster R-CNN / RPN consumes, as torchvision's
// GeneralizedRCNNTransform (torchvision 0.14) makes it, so that sizes, anchors and published
// weights line up with the Python implementation:
//   1. optional horizontal flip (image and boxes; train-time augmentation);
//   2. normalise: RGB, (pixel / 255 - mean) / std with the ImageNet statistics;
//   3. resize with bilinear interpolation (half-pixel centres, no antialiasing) to the size
//      detection_resize_size gives: short side ~min_size, long side <= max_size;
//   4. boxes scaled by the per-axis ratios new size / old size (torchvision's resize_boxes);
//   5. pad every image with zeros at the bottom and right to the batch's largest height and
//      width, each rounded up to a multiple of size_divisible.
// (torchvision normalises before resizing; bilinear weights sum to 1, so the order is the same.)
#include <torch/torch.h>

#include <array>
#include <map>
#include <string>
#include <utility>
#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

#include "data/batch.h"
#include "data/detection_sample.h"

namespace zoo {

struct DetectionTransformOptions {
  int min_size = 800;  // torchvision's defaults for Faster R-CNN
  int max_size = 1333;
  int size_divisible = 32;        // the backbone's largest stride
  double hflip_probability = 0;   // per image, decided by (seed, position in the batch)
  uint64_t seed = 0;              // vary it per batch (e.g. mix_seed(run seed, batch index))
};

// Height and width torchvision resizes a height x width image to. Reproduces its arithmetic:
// scale = min(min_size / short, max_size / long) in float32 (computed as (1 / side) * size, as
// torch evaluates a Python number divided by a tensor), then each side floor(side * scale) in
// double (F.interpolate with recompute_scale_factor=True). So 480 x 640 -> 800 x 1066 but
// 427 x 640 -> 799 x 1199, as torchvision gives.
std::array<int64_t, 2> detection_resize_size(int64_t height, int64_t width, int min_size, int max_size);

// Boxes [n, 4] (x1, y1, x2, y2) of an image of size `from` (height, width) -> the same boxes on
// the image resized to `to`: x times float(to_w) / float(from_w), y likewise (torchvision's
// resize_boxes). With from and to swapped it maps predictions back to the original image.
torch::Tensor resize_boxes(const torch::Tensor& boxes, std::array<int64_t, 2> from, std::array<int64_t, 2> to);

// Horizontal flip of an image and of its boxes in place: x1' = W - x2, x2' = W - x1.
void hflip_detection(cv::Mat& image, std::vector<std::array<float, 4>>& boxes);

struct DetectionBatch {
  torch::Tensor images;                              // [B, 3, H, W] float32, H and W multiples of size_divisible
  std::vector<std::array<int64_t, 2>> image_sizes;     // (height, width) of each image after resizing, before padding
  std::vector<std::array<int64_t, 2>> original_sizes;  // (height, width) of each input image
  std::vector<bool> flipped;                          // whether image i was flipped
  std::vector<torch::Tensor> boxes;                   // per image [n_i, 4] float32, pixels of the resized image
  std::vector<torch::Tensor> labels;                  // per image [n_i] int64
};

// Makes the batch from BGR uint8 images (as load_detection_image and synthetic_detection return
// them) and their samples; image i must be samples[i].width x samples[i].height
// (std::invalid_argument naming the sample's image_path otherwise). Boxes map back to the
// original image with resize_boxes(boxes, image_sizes[i], original_sizes[i]) and, if flipped,
// a flip about the original width.
DetectionBatch make_detection_batch(const std::vector<cv::Mat>& images, const std::vector<DetectionSample>& samples,
                                    const DetectionTransformOptions& options = {});

// A detection batch as tasks pass it around (data/batch.h): keys
// below. Boxes are (x1, y1, x2, y2) in pixels of the resized image.
namespace detection_key {
inline constexpr char kImages[] = "images";            // [B, 3, H, W], DetectionBatch::images
inline constexpr char kSizes[] = "image_sizes";        // [B, 2] int64 (height, width) before padding
inline constexpr char kBoxes[] = "boxes";              // [B, M, 4] ground truth, zero rows past num_boxes
inline constexpr char kNumBoxes[] = "num_boxes";       // [B] int64
inline constexpr char kIndex[] = "index";              // [B] int64 position of each image in its split
}  // namespace detection_key

// Per image [n_i, 4] -> [B, max n (at least 1), 4] with zero rows, and the counts [B] int64.
std::pair<torch::Tensor, torch::Tensor> pad_boxes(const std::vector<torch::Tensor>& boxes,
                                                  const torch::TensorOptions& options);
// The batch under the keys above; `indices` (each image's position in its split) become kIndex.
Batch named_batch(const DetectionBatch& b, const std::vector<int64_t>& indices);
// The inverse for a batch's ground truth: per image [num_boxes_i, 4].
std::vector<torch::Tensor> gt_boxes_of(const Batch& batch);

}  // namespace zoo
