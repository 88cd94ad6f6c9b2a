// HandPose and RegionProposals: the training pipeline's resize and normalisation
// (data/hand_augment.h resize_to + data/hand_batch.h image_to_tensor; data/detection_batch.h for
// proposals), then the outputs mapped back to the pixels of the image passed in.
#include <algorithm>
#include <stdexcept>

#include "data/detection_batch.h"
#include "data/hand_augment.h"
#include "data/hand_batch.h"
#include "data/hand_sample.h"
#include "infer/predictors.h"

namespace zoo::infer {

namespace {

void check_image(const cv::Mat& bgr, const char* who) {
  if (bgr.empty() || bgr.type() != CV_8UC3 || bgr.cols < 2 || bgr.rows < 2)
    throw std::invalid_argument(std::string(who) + ": expected a BGR uint8 image (CV_8UC3) of at least 2 x 2 pixels");
}

// A root-relative pose (mm) has no position: put it in front of a pinhole camera (focal f,
// principal point (c, c)) at the depth and place where its projected 2D box is centred and
// `extent` pixels on its larger side, as the hands of the training crops are.
std::vector<cv::Point2d> place_on_image(const std::vector<cv::Point3d>& xyz, double f, double c, double extent) {
  double min_z = 0;
  for (const auto& p : xyz) min_z = std::min(min_z, p.z);
  cv::Point3d root(0, 0, std::max(300.0, 10.0 - min_z));
  std::vector<cv::Point2d> uv(xyz.size());
  for (int iter = 0; iter < 20; ++iter) {
    double u0 = 1e300, v0 = 1e300, u1 = -1e300, v1 = -1e300;
    for (size_t j = 0; j < xyz.size(); ++j) {
      const cv::Point3d q = xyz[j] + root;
      uv[j] = {f * q.x / q.z + c, f * q.y / q.z + c};
      u0 = std::min(u0, uv[j].x), u1 = std::max(u1, uv[j].x), v0 = std::min(v0, uv[j].y), v1 = std::max(v1, uv[j].y);
    }
    const double size = std::max({u1 - u0, v1 - v0, 1e-6});
    root.x += (c - (u0 + u1) / 2) * root.z / f;
    root.y += (c - (v0 + v1) / 2) * root.z / f;
    root.z = std::max(root.z * size / std::max(extent, 1.0), 10.0 - min_z);
  }
  for (size_t j = 0; j < xyz.size(); ++j) {
    const cv::Point3d q = xyz[j] + root;
    uv[j] = {f * q.x / q.z + c, f * q.y / q.z + c};
  }
  return uv;
}

}  // namespace

HandPose::HandPose(const std::string& dir, const torch::Device& device, bool optimize_for_inference)
    : export_(dir, {"keypoints", "heatmap"}), module_(export_.load_module(device, optimize_for_inference)),
      device_(device) {
  heatmap_ = export_.task() == "heatmap";
  const auto size = export_.get<int64_t>("input/image_size");
  if (size < 8 || size > 4096) export_.fail("input/image_size", "must be in [8, 4096]");
  image_size_ = static_cast<int>(size);
  coord_dims_ = heatmap_ ? 2 : export_.get<int64_t>("architecture/coord_dims");
  if (coord_dims_ != 2 && coord_dims_ != 3) export_.fail("architecture/coord_dims", "must be 2 or 3");
  joint_names_ = export_.get<std::vector<std::string>>("keypoint_names");
  if (joint_names_.size() != static_cast<size_t>(kHandJoints)) export_.fail("keypoint_names", "must name 21 joints");
  if (coord_dims_ == 3) {
    scale_mm_ = export_.get<double>("placement/scale_mm");
    focal_per_size_ = export_.get<double>("placement/focal_per_image_size");
    extent_ = export_.get<double>("placement/extent_per_image_size");
    if (!(scale_mm_ > 0 && scale_mm_ < 1e4)) export_.fail("placement/scale_mm", "must be in (0, 1e4)");
    if (!(focal_per_size_ > 0 && focal_per_size_ < 1e3)) export_.fail("placement/focal_per_image_size", "must be in (0, 1e3)");
    if (!(extent_ > 0 && extent_ < 1e3)) export_.fail("placement/extent_per_image_size", "must be in (0, 1e3)");
  }
}

torch::Tensor HandPose::preprocess(const cv::Mat& bgr) const {
  check_image(bgr, "HandPose");
  HandSample sample;
  sample.image = bgr;
  sample.K = cv::Matx33d::eye();
  return image_to_tensor(resize_to(sample, image_size_).image);
}

HandJoints HandPose::predict(const cv::Mat& bgr) const { return predict(std::vector<cv::Mat>{bgr}).front(); }

std::vector<HandJoints> HandPose::predict(const std::vector<cv::Mat>& images) const {
  std::vector<HandJoints> out;
  for (size_t start = 0; start < images.size(); start += 32) {  // bounds the batch's memory
    std::vector<torch::Tensor> inputs;
    const size_t end = std::min(images.size(), start + 32);
    for (size_t i = start; i < end; ++i) inputs.push_back(preprocess(images[i]));
    torch::Tensor pred;
    {
      torch::InferenceMode guard;
      const auto result = module_.forward({torch::stack(inputs).to(device_)});
      // The heatmap model returns (coords, heatmaps); the regressor its coordinates.
      pred = (heatmap_ ? result.toTuple()->elements()[0].toTensor() : result.toTensor()).to(torch::kCPU, torch::kDouble);
    }
    const int S = image_size_;
    for (size_t i = start; i < end; ++i) {
      const torch::Tensor p = pred[static_cast<int64_t>(i - start)];
      HandJoints joints;
      if (coord_dims_ == 3) {
        // Relative to the predicted wrist (the regressor's wrist is near, not exactly at, 0).
        const torch::Tensor rel = ((p - p[kWrist]) * scale_mm_).contiguous();
        const double* r = rel.data_ptr<double>();
        for (int j = 0; j < kHandJoints; ++j) joints.xyz_mm.emplace_back(r[3 * j], r[3 * j + 1], r[3 * j + 2]);
        joints.uv = place_on_image(joints.xyz_mm, focal_per_size_ * S, (S - 1) / 2.0, extent_ * S);
      } else {
        const torch::Tensor px = uv_to_pixels(p, S, S).contiguous();
        const double* q = px.data_ptr<double>();
        for (int j = 0; j < kHandJoints; ++j) joints.uv.emplace_back(q[2 * j], q[2 * j + 1]);
      }
      // From the model's S x S input back to the pixels of the image (resize_to's map, inverted).
      const cv::Mat& image = images[i];
      const double sx = static_cast<double>(S) / image.cols, sy = static_cast<double>(S) / image.rows;
      for (auto& q : joints.uv) q = {(q.x + 0.5) / sx - 0.5, (q.y + 0.5) / sy - 0.5};
      out.push_back(std::move(joints));
    }
  }
  return out;
}

RegionProposals::RegionProposals(const std::string& dir, const torch::Device& device, bool optimize_for_inference)
    : export_(dir, {"rpn"}), module_(export_.load_module(device, optimize_for_inference)), device_(device) {
  min_size_ = export_.get<int>("input/min_size");
  max_size_ = export_.get<int>("input/max_size");
  size_divisible_ = export_.get<int>("input/size_divisible");
  if (min_size_ < 32 || max_size_ < min_size_ || max_size_ > 8192) export_.fail("input/max_size", "sizes must satisfy 32 <= min_size <= max_size <= 8192");
  if (size_divisible_ < 1 || size_divisible_ > 1024) export_.fail("input/size_divisible", "must be in [1, 1024]");
}

std::vector<Proposal> RegionProposals::propose(const cv::Mat& bgr, int64_t top_n) const {
  return propose(std::vector<cv::Mat>{bgr}, top_n).front();
}

namespace {

// `first` numbers the images in messages ("image 9") when `images` is a chunk of a longer list.
DetectionBatch make_batch(const std::vector<cv::Mat>& images, int min_size, int max_size, int size_divisible,
                          size_t first = 0) {
  DetectionTransformOptions transform;
  transform.min_size = min_size, transform.max_size = max_size, transform.size_divisible = size_divisible;
  std::vector<DetectionSample> samples;
  for (size_t i = 0; i < images.size(); ++i) {
    check_image(images[i], "RegionProposals");
    DetectionSample s;
    s.image_path = "image " + std::to_string(first + i);
    s.width = images[i].cols, s.height = images[i].rows;
    samples.push_back(s);
  }
  return make_detection_batch(images, samples, transform);
}

torch::Tensor sizes_tensor(const DetectionBatch& b) {
  torch::Tensor sizes = torch::empty({static_cast<int64_t>(b.image_sizes.size()), 2}, torch::kInt64);
  for (size_t i = 0; i < b.image_sizes.size(); ++i)
    sizes[static_cast<int64_t>(i)][0] = b.image_sizes[i][0], sizes[static_cast<int64_t>(i)][1] = b.image_sizes[i][1];
  return sizes;
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> RegionProposals::preprocess(const std::vector<cv::Mat>& images) const {
  const DetectionBatch b = make_batch(images, min_size_, max_size_, size_divisible_);
  return {b.images, sizes_tensor(b)};
}

std::vector<std::vector<Proposal>> RegionProposals::propose(const std::vector<cv::Mat>& images, int64_t top_n) const {
  std::vector<std::vector<Proposal>> out;
  for (size_t start = 0; start < images.size(); start += 8) {  // bounds the batch's memory
    const std::vector<cv::Mat> chunk(images.begin() + static_cast<std::ptrdiff_t>(start),
                                     images.begin() + static_cast<std::ptrdiff_t>(std::min(images.size(), start + 8)));
    const DetectionBatch b = make_batch(chunk, min_size_, max_size_, size_divisible_, start);
    torch::InferenceMode guard;
    const auto result = module_.forward({b.images.to(device_), sizes_tensor(b).to(device_)}).toTuple();
    const auto boxes = result->elements()[0].toTensor().cpu(), scores = result->elements()[1].toTensor().cpu();
    const auto counts = result->elements()[2].toTensor().cpu();
    for (size_t i = 0; i < chunk.size(); ++i) {
      const auto k = static_cast<int64_t>(i);
      int64_t n = counts[k].item<int64_t>();
      if (top_n > 0) n = std::min(n, top_n);
      // Back to the pixels of the image passed in.
      const auto mapped = resize_boxes(boxes[k].narrow(0, 0, n), b.image_sizes[i], b.original_sizes[i])
                              .to(torch::kDouble).contiguous();
      const auto s = scores[k].narrow(0, 0, n).to(torch::kDouble).contiguous();
      std::vector<Proposal> list;
      for (int64_t j = 0; j < n; ++j) {
        const double* q = mapped.data_ptr<double>() + 4 * j;
        list.push_back({{q[0], q[1], q[2], q[3]}, s.data_ptr<double>()[j]});
      }
      out.push_back(std::move(list));
    }
  }
  return out;
}

}  // namespace zoo::infer
