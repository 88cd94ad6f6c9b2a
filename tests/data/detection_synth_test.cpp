// Synthetic detection images: a pure function of (seed, index), boxes exactly tight on the
// visible pixels of each object, and the promised spread of counts, sizes and aspect ratios.
#include <gtest/gtest.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <set>

#include "data/detection_synth.h"

namespace zoo {
namespace {

TEST(DetectionSynth, DeterministicPerSeedAndIndex) {
  const auto a = synthetic_detection(7, 3), b = synthetic_detection(7, 3);
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0);
  EXPECT_EQ(a.sample.boxes, b.sample.boxes);
  EXPECT_EQ(a.sample.labels, b.sample.labels);
  EXPECT_EQ(a.sample.image_path, "synthetic:7:3");
  EXPECT_GT(cv::norm(a.image, synthetic_detection(7, 4).image, cv::NORM_L1), 0);
  EXPECT_GT(cv::norm(a.image, synthetic_detection(8, 3).image, cv::NORM_L1), 0);
}

TEST(DetectionSynth, BoxesAreTightOnTheVisiblePixels) {
  for (int64_t i = 0; i < 20; ++i) {
    const auto d = synthetic_detection(1, i);
    ASSERT_EQ(d.image.type(), CV_8UC3);
    ASSERT_EQ(d.instances.type(), CV_16UC1);
    ASSERT_EQ(d.image.size(), d.instances.size());
    ASSERT_EQ(d.sample.boxes.size(), d.sample.labels.size());
    double max_id = 0;
    cv::minMaxLoc(d.instances, nullptr, &max_id);
    EXPECT_EQ(max_id, static_cast<double>(d.sample.boxes.size()));  // every object is visible
    for (size_t k = 0; k < d.sample.boxes.size(); ++k) {
      const cv::Mat mask = d.instances == static_cast<double>(k + 1);
      EXPECT_GE(cv::countNonZero(mask), 16);
      const cv::Rect r = cv::boundingRect(mask);
      const auto& b = d.sample.boxes[k];
      // The box's edges are the outermost visible pixels' outer edges, on all four sides.
      EXPECT_EQ(b, (std::array<float, 4>{static_cast<float>(r.x), static_cast<float>(r.y),
                                         static_cast<float>(r.x + r.width), static_cast<float>(r.y + r.height)}))
          << "image " << i << " object " << k;
      EXPECT_GT(cv::countNonZero(mask.col(static_cast<int>(b[0]))), 0);
      EXPECT_GT(cv::countNonZero(mask.col(static_cast<int>(b[2]) - 1)), 0);
      EXPECT_GT(cv::countNonZero(mask.row(static_cast<int>(b[1]))), 0);
      EXPECT_GT(cv::countNonZero(mask.row(static_cast<int>(b[3]) - 1)), 0);
    }
  }
}

TEST(DetectionSynth, CountsSizesAndShapesVary) {
  DetectionSynthOptions o;
  o.max_objects = 5;
  std::set<int> labels, counts;
  float smallest = 1e9f, largest = 0;
  bool wide = false, tall = false;
  for (int64_t i = 0; i < 40; ++i) {
    const auto d = synthetic_detection(2, i, o);
    const int n = static_cast<int>(d.sample.boxes.size());
    EXPECT_GE(n, 1);
    EXPECT_LE(n, o.max_objects);
    counts.insert(n);
    for (size_t k = 0; k < d.sample.boxes.size(); ++k) {
      const auto& b = d.sample.boxes[k];
      labels.insert(d.sample.labels[k]);
      EXPECT_GE(b[0], 0);
      EXPECT_GE(b[1], 0);
      EXPECT_LE(b[2], 256);
      EXPECT_LE(b[3], 256);
      const float w = b[2] - b[0], h = b[3] - b[1];
      smallest = std::min(smallest, std::max(w, h));
      largest = std::max(largest, std::max(w, h));
      wide |= w > 2 * h;
      tall |= h > 2 * w;
    }
  }
  EXPECT_EQ(labels, (std::set<int>{1, 2, 3}));
  EXPECT_GE(counts.size(), 3u);
  EXPECT_LT(smallest, 0.12f * 256);
  EXPECT_GT(largest, 0.4f * 256);
  EXPECT_TRUE(wide);
  EXPECT_TRUE(tall);
}

TEST(DetectionSynth, VariedSizesAndBadOptions) {
  DetectionSynthOptions o;
  o.width = 200;
  o.height = 120;
  o.vary_size = true;
  std::set<int> widths;
  for (int64_t i = 0; i < 10; ++i) {
    const auto d = synthetic_detection(3, i, o);
    EXPECT_EQ(d.image.cols, d.sample.width);
    EXPECT_EQ(d.image.rows, d.sample.height);
    EXPECT_GE(d.sample.width, 100);
    EXPECT_LE(d.sample.width, 200);
    EXPECT_GE(d.sample.height, 60);
    EXPECT_LE(d.sample.height, 120);
    widths.insert(d.sample.width);
  }
  EXPECT_GT(widths.size(), 1u);
  o.width = 32;
  EXPECT_THROW(synthetic_detection(0, 0, o), std::invalid_argument);
}

}  // namespace
}  // namespace zoo
