#include "data/detection_batch.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>
#include <stdexcept>
#include <string>

#include "data/hand_batch.h"  // kImageNetMean, kImageNetStd: one copy of the statistics
#include "data/sampling.h"

namespace zoo {

std::array<int64_t, 2> detection_resize_size(int64_t height, int64_t width, int min_size, int max_size) {
  if (height <= 0 || width <= 0 || min_size <= 0 || max_size <= 0)
    throw std::invalid_argument("detection_resize_size: sizes must be positive");
  const float short_side = static_cast<float>(std::min(height, width)),
              long_side = static_cast<float>(std::max(height, width));
  const float scale = std::min(1.0f / short_side * static_cast<float>(min_size),
                               1.0f / long_side * static_cast<float>(max_size));
  return {static_cast<int64_t>(std::floor(static_cast<double>(height) * scale)),
          static_cast<int64_t>(std::floor(static_cast<double>(width) * scale))};
}

torch::Tensor resize_boxes(const torch::Tensor& boxes, std::array<int64_t, 2> from, std::array<int64_t, 2> to) {
  const float rh = static_cast<float>(to[0]) / static_cast<float>(from[0]),
              rw = static_cast<float>(to[1]) / static_cast<float>(from[1]);
  return boxes * torch::tensor({rw, rh, rw, rh}, boxes.options());
}

void hflip_detection(cv::Mat& image, std::vector<std::array<float, 4>>& boxes) {
  cv::flip(image, image, 1);
  const float W = static_cast<float>(image.cols);
  for (auto& b : boxes) b = {W - b[2], b[1], W - b[0], b[3]};
}

DetectionBatch make_detection_batch(const std::vector<cv::Mat>& images, const std::vector<DetectionSample>& samples,
                                    const DetectionTransformOptions& options) {
  if (images.empty() || images.size() != samples.size())
    throw std::invalid_argument("make_detection_batch: expected as many samples as images, at least one");
  if (options.size_divisible <= 0) throw std::invalid_argument("make_detection_batch: size_divisible must be > 0");
  DetectionBatch batch;
  std::vector<cv::Mat> resized;  // float32 BGR, 0..255
  for (size_t i = 0; i < images.size(); ++i) {
    const DetectionSample& s = samples[i];
    cv::Mat image = images[i];
    if (image.type() != CV_8UC3 || image.cols != s.width || image.rows != s.height)
      throw std::invalid_argument("make_detection_batch: " + s.image_path + ": expected a BGR uint8 " +
                                  std::to_string(s.width) + "x" + std::to_string(s.height) + " image");
    std::vector<std::array<float, 4>> boxes = s.boxes;
    std::mt19937_64 rng(mix_seed(options.seed, i));
    const bool flip = options.hflip_probability > 0 && uniform_unit(rng) < options.hflip_probability;
    if (flip) {
      image = image.clone();  // the caller's image stays as it is
      hflip_detection(image, boxes);
    }
    const std::array<int64_t, 2> original = {image.rows, image.cols};
    const auto size = detection_resize_size(original[0], original[1], options.min_size, options.max_size);
    cv::Mat f, r;
    image.convertTo(f, CV_32F);
    cv::resize(f, r, cv::Size(static_cast<int>(size[1]), static_cast<int>(size[0])), 0, 0, cv::INTER_LINEAR);
    resized.push_back(r);

    auto box_tensor = torch::empty({static_cast<int64_t>(boxes.size()), 4});
    auto box_a = box_tensor.accessor<float, 2>();
    for (size_t k = 0; k < boxes.size(); ++k)
      for (size_t j = 0; j < 4; ++j) box_a[static_cast<int64_t>(k)][static_cast<int64_t>(j)] = boxes[k][j];
    auto labels = torch::empty({static_cast<int64_t>(s.labels.size())}, torch::kInt64);
    std::copy(s.labels.begin(), s.labels.end(), labels.data_ptr<int64_t>());
    batch.boxes.push_back(resize_boxes(box_tensor, original, size));
    batch.labels.push_back(labels);
    batch.image_sizes.push_back(size);
    batch.original_sizes.push_back(original);
    batch.flipped.push_back(flip);
  }

  int64_t H = 0, W = 0;
  for (const auto& sz : batch.image_sizes) {
    H = std::max(H, sz[0]);
    W = std::max(W, sz[1]);
  }
  const int64_t d = options.size_divisible;
  H = (H + d - 1) / d * d;
  W = (W + d - 1) / d * d;
  batch.images = torch::zeros({static_cast<int64_t>(images.size()), 3, H, W});
  float* data = batch.images.data_ptr<float>();
  for (size_t i = 0; i < resized.size(); ++i)
    for (int c = 0; c < 3; ++c) {
      // A header on the padded tensor's plane: the image is written in place, the rest stays 0.
      cv::Mat plane(resized[i].rows, resized[i].cols, CV_32FC1, data + (static_cast<int64_t>(i) * 3 + c) * H * W,
                    static_cast<size_t>(W) * sizeof(float));
      const int from_to[] = {2 - c, 0};  // RGB channel c is BGR channel 2 - c
      cv::mixChannels(&resized[i], 1, &plane, 1, from_to, 1);
      plane.convertTo(plane, CV_32F, 1.0 / (255.0 * kImageNetStd[static_cast<size_t>(c)]),
                      -kImageNetMean[static_cast<size_t>(c)] / kImageNetStd[static_cast<size_t>(c)]);
    }
  return batch;
}

std::pair<torch::Tensor, torch::Tensor> pad_boxes(const std::vector<torch::Tensor>& boxes,
                                                  const torch::TensorOptions& options) {
  int64_t most = 1;
  for (const auto& b : boxes) most = std::max(most, b.size(0));
  torch::Tensor out = torch::zeros({static_cast<int64_t>(boxes.size()), most, 4}, options);
  torch::Tensor counts = torch::zeros({static_cast<int64_t>(boxes.size())}, torch::kInt64);
  for (size_t i = 0; i < boxes.size(); ++i) {
    out[static_cast<int64_t>(i)].narrow(0, 0, boxes[i].size(0)).copy_(boxes[i]);
    counts[static_cast<int64_t>(i)] = boxes[i].size(0);
  }
  return {out, counts};
}

std::vector<torch::Tensor> gt_boxes_of(const Batch& batch) {
  std::vector<torch::Tensor> out;
  const auto n = batch.at(detection_key::kNumBoxes).cpu();
  for (int64_t i = 0; i < n.size(0); ++i) out.push_back(batch.at(detection_key::kBoxes)[i].narrow(0, 0, n[i].item<int64_t>()));
  return out;
}

Batch named_batch(const DetectionBatch& b, const std::vector<int64_t>& indices) {
  using namespace detection_key;
  auto [boxes, counts] = pad_boxes(b.boxes, torch::kFloat32);
  torch::Tensor sizes = torch::empty({static_cast<int64_t>(indices.size()), 2}, torch::kInt64);
  for (size_t i = 0; i < indices.size(); ++i) {
    sizes[static_cast<int64_t>(i)][0] = b.image_sizes[i][0];
    sizes[static_cast<int64_t>(i)][1] = b.image_sizes[i][1];
  }
  return {{kImages, b.images}, {kSizes, sizes}, {kBoxes, boxes}, {kNumBoxes, counts},
          {kIndex, torch::tensor(indices, torch::kInt64)}};
}

}  // namespace zoo
