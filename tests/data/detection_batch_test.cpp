// Detection batches against torchvision 0.14's GeneralizedRCNNTransform: resized sizes, scaled
// boxes and pixel values (reference numbers printed by torchvision itself), padding to multiples
// of 32, and the horizontal flip.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>

#include "data/detection_batch.h"

namespace zoo {
namespace {

using Size2 = std::array<int64_t, 2>;

TEST(DetectionBatch, ResizeSizesMatchTorchvision) {
  // (height, width, min_size, max_size) -> torchvision's image_sizes.
  struct Case {
    int64_t h, w;
    int min_size, max_size;
    Size2 expected;
  };
  for (const Case& c : std::vector<Case>{{480, 640, 800, 1333, {800, 1066}},
                                         {427, 640, 800, 1333, {799, 1199}},
                                         {500, 375, 800, 1333, {1066, 799}},
                                         {194, 259, 800, 1333, {799, 1068}},
                                         {1000, 100, 800, 1333, {1333, 133}},
                                         {333, 500, 800, 1333, {799, 1201}},
                                         {480, 640, 256, 512, {256, 341}},
                                         {194, 259, 256, 512, {255, 341}},
                                         {100, 1000, 256, 512, {51, 512}},
                                         {255, 255, 256, 512, {256, 256}}})
    EXPECT_EQ(detection_resize_size(c.h, c.w, c.min_size, c.max_size), c.expected) << c.h << "x" << c.w;
}

TEST(DetectionBatch, BoxesScaleAsTorchvisionResizeBoxes) {
  const auto box = torch::tensor({10.f, 20.f, 30.f, 40.f}).view({1, 4});
  const auto r = resize_boxes(box, {480, 640}, {800, 1066});
  EXPECT_FLOAT_EQ(r[0][0].item<float>(), 16.65625f);
  EXPECT_FLOAT_EQ(r[0][1].item<float>(), 33.33333206176758f);
  EXPECT_FLOAT_EQ(r[0][2].item<float>(), 49.96875f);
  EXPECT_FLOAT_EQ(r[0][3].item<float>(), 66.66666412353516f);
  const auto back = resize_boxes(r, {800, 1066}, {480, 640});
  EXPECT_TRUE(torch::allclose(back, box, 1e-5, 1e-4));
}

// 5 x 7 BGR image with value (37 y + 11 x + 50 c) mod 256 in channel c.
cv::Mat pattern() {
  cv::Mat image(5, 7, CV_8UC3);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x)
      for (int c = 0; c < 3; ++c) image.at<cv::Vec3b>(y, x)[c] = static_cast<uchar>((y * 37 + x * 11 + c * 50) % 256);
  return image;
}

TEST(DetectionBatch, PixelsMatchTorchvision) {
  DetectionTransformOptions o;
  o.min_size = 8;
  o.max_size = 100;
  const DetectionSample s{"pattern", 7, 5, {{1, 2, 6, 5}}, {1}};
  const auto batch = make_detection_batch({pattern()}, {s}, o);
  ASSERT_EQ(batch.images.sizes(), (std::vector<int64_t>{1, 3, 32, 32}));
  EXPECT_EQ(batch.image_sizes[0], (Size2{8, 11}));
  EXPECT_EQ(batch.original_sizes[0], (Size2{5, 7}));
  // GeneralizedRCNNTransform(8, 100, ImageNet mean/std) on the same image, as RGB / 255.
  struct Ref {
    int c, y, x;
    float value;
  };
  for (const Ref& r : std::vector<Ref>{{0, 0, 0, -0.40542858839035034f},
                                       {0, 3, 5, 1.2289150953292847f},
                                       {1, 7, 10, -1.895658254623413f},
                                       {2, 4, 2, -0.10400863736867905f},
                                       {1, 1, 9, 0.1909576654434204f},
                                       {2, 7, 0, 0.7750764489173889f},
                                       {0, 7, 10, -1.1246683597564697f}})
    EXPECT_NEAR(batch.images[0][r.c][r.y][r.x].item<float>(), r.value, 1e-4) << r.c << "," << r.y << "," << r.x;
  EXPECT_EQ(batch.images[0].slice(1, 8).abs().max().item<float>(), 0);     // padding below
  EXPECT_EQ(batch.images[0].slice(2, 11).abs().max().item<float>(), 0);    // and to the right
  const auto b = batch.boxes[0];
  EXPECT_FLOAT_EQ(b[0][0].item<float>(), 1.5714285373687744f);
  EXPECT_FLOAT_EQ(b[0][1].item<float>(), 3.200000047683716f);
  EXPECT_FLOAT_EQ(b[0][2].item<float>(), 9.428571701049805f);
  EXPECT_FLOAT_EQ(b[0][3].item<float>(), 8.0f);
}

TEST(DetectionBatch, PadsDifferentSizesToMultiplesOf32) {
  DetectionTransformOptions o;
  o.min_size = 40;
  o.max_size = 70;
  const std::vector<cv::Mat> images = {cv::Mat(30, 60, CV_8UC3, cv::Scalar(0, 128, 255)),
                                       cv::Mat(50, 20, CV_8UC3, cv::Scalar(10, 20, 30))};
  const std::vector<DetectionSample> samples = {{"a", 60, 30, {{0, 0, 60, 30}, {6, 3, 12, 9}}, {2, 1}},
                                                {"b", 20, 50, {}, {}}};
  const auto batch = make_detection_batch(images, samples, o);
  // 30x60 -> scale min(40/30, 70/60) = 7/6 -> 35x70; 50x20 -> min(2, 1.4) with 1.4 rounded down
  // in float32 -> 69x27, as torchvision gives.
  EXPECT_EQ(batch.image_sizes, (std::vector<Size2>{{35, 70}, {69, 27}}));
  ASSERT_EQ(batch.images.sizes(), (std::vector<int64_t>{2, 3, 96, 96}));
  EXPECT_EQ(batch.images.size(2) % 32, 0);
  EXPECT_EQ(batch.images.size(3) % 32, 0);
  // Constant images stay constant: channel 0 is red, normalised with the ImageNet statistics.
  const auto red = batch.images[0][0].slice(0, 0, 35).slice(1, 0, 70);
  EXPECT_NEAR(red.min().item<float>(), (1.0f - 0.485f) / 0.229f, 1e-5);
  EXPECT_NEAR(red.max().item<float>(), (1.0f - 0.485f) / 0.229f, 1e-5);
  EXPECT_EQ(batch.images[0].slice(1, 35).abs().max().item<float>(), 0);
  EXPECT_EQ(batch.images[1].slice(2, 27).abs().max().item<float>(), 0);
  EXPECT_TRUE(torch::allclose(batch.boxes[0], torch::tensor({0.f, 0.f, 70.f, 35.f, 7.f, 3.5f, 14.f, 10.5f}).view({2, 4})));
  EXPECT_TRUE(torch::equal(batch.labels[0], torch::tensor({2, 1}, torch::kInt64)));
  EXPECT_EQ(batch.boxes[1].sizes(), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(batch.labels[1].numel(), 0);
  EXPECT_THROW(make_detection_batch(images, {samples[1], samples[0]}, o), std::invalid_argument);
}

TEST(DetectionBatch, HorizontalFlip) {
  cv::Mat image = pattern();
  const cv::Mat original = image.clone();
  std::vector<std::array<float, 4>> boxes = {{1, 2, 3, 5}}, flipped_boxes;
  hflip_detection(image, boxes);
  EXPECT_EQ(boxes, (std::vector<std::array<float, 4>>{{4, 2, 6, 5}}));
  EXPECT_EQ(image.at<cv::Vec3b>(0, 0), original.at<cv::Vec3b>(0, 6));
  flipped_boxes = boxes;
  hflip_detection(image, boxes);
  EXPECT_EQ(boxes, (std::vector<std::array<float, 4>>{{1, 2, 3, 5}}));
  EXPECT_EQ(cv::norm(image, original, cv::NORM_INF), 0);

  // In a batch: flipping with probability 1 equals batching the flipped image.
  DetectionTransformOptions o;
  o.min_size = 8;
  o.max_size = 100;
  const DetectionSample s{"p", 7, 5, {{1, 2, 3, 5}}, {1}};
  cv::Mat mirrored = original.clone();
  hflip_detection(mirrored, flipped_boxes = s.boxes);
  const auto plain = make_detection_batch({mirrored}, {DetectionSample{"p", 7, 5, flipped_boxes, {1}}}, o);
  o.hflip_probability = 1;
  const auto flipped = make_detection_batch({original}, {s}, o);
  EXPECT_TRUE(flipped.flipped[0]);
  EXPECT_TRUE(torch::equal(flipped.images, plain.images));
  EXPECT_TRUE(torch::equal(flipped.boxes[0], plain.boxes[0]));
  EXPECT_EQ(cv::norm(original, pattern(), cv::NORM_INF), 0);  // the caller's image is untouched

  // Probability 1/2: deterministic per seed, and some of each.
  o.hflip_probability = 0.5;
  const std::vector<cv::Mat> many(32, original);
  const std::vector<DetectionSample> samples(32, s);
  const auto a = make_detection_batch(many, samples, o), b = make_detection_batch(many, samples, o);
  EXPECT_EQ(a.flipped, b.flipped);
  const auto n = std::count(a.flipped.begin(), a.flipped.end(), true);
  EXPECT_GT(n, 4);
  EXPECT_LT(n, 28);
  o.seed = 1;
  EXPECT_NE(make_detection_batch(many, samples, o).flipped, a.flipped);
}

}  // namespace
}  // namespace zoo
