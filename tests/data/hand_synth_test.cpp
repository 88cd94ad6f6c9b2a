// The synthetic hand generator: determinism, labels inside the image and on their projection,
// constant bone lengths and anatomical joint angles across articulations, speed.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>

#include "data/hand_synth.h"

namespace zoo {
namespace {

TEST(HandSynth, PureFunctionOfTheSeed) {
  const HandSample a = synthetic_hand(123, 128), b = synthetic_hand(123, 128), c = synthetic_hand(124, 128);
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0);
  EXPECT_EQ(a.xyz_mm, b.xyz_mm);
  EXPECT_EQ(a.uv, b.uv);
  EXPECT_EQ(a.K, b.K);
  EXPECT_EQ(a.source, "synthetic:123");
  EXPECT_GT(cv::norm(a.image, c.image, cv::NORM_L1), 0);
  EXPECT_NE(a.xyz_mm, c.xyz_mm);
  EXPECT_THROW(synthetic_hand(1, 16), std::invalid_argument);
}

TEST(HandSynth, LabelsInsideTheImageAndOnTheirProjection) {
  for (int size : {64, 128, 256}) {
    for (uint64_t seed = 0; seed < 150; ++seed) {
      const HandSample s = synthetic_hand(seed, size);
      ASSERT_EQ(s.image.size(), cv::Size(size, size));
      ASSERT_EQ(s.image.type(), CV_8UC3);
      ASSERT_EQ(s.xyz_mm.size(), size_t(kHandJoints));
      EXPECT_EQ(s.visible, std::vector<float>(kHandJoints, 1.0f));
      double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
      for (int j = 0; j < kHandJoints; ++j) {
        const auto& uv = s.uv[static_cast<size_t>(j)];
        EXPECT_GT(s.xyz_mm[static_cast<size_t>(j)].z, 0);
        EXPECT_LT(cv::norm(uv - project_point(s.K, s.xyz_mm[static_cast<size_t>(j)])), 1e-9);
        EXPECT_GE(std::min(uv.x, uv.y), 0.04 * size - 1e-9) << "seed " << seed;
        EXPECT_LE(std::max(uv.x, uv.y), 0.96 * size - 1 + 1e-9) << "seed " << seed;
        x0 = std::min(x0, uv.x), x1 = std::max(x1, uv.x), y0 = std::min(y0, uv.y), y1 = std::max(y1, uv.y);
      }
      EXPECT_GT(std::max(x1 - x0, y1 - y0), 0.25 * size) << "hand too small, seed " << seed;
    }
  }
}

double angle_deg(const cv::Point3d& a, const cv::Point3d& b) {
  return std::acos(std::clamp(a.dot(b) / (cv::norm(a) * cv::norm(b)), -1.0, 1.0)) * 180 / CV_PI;
}

TEST(HandSynth, BoneLengthsAreFixedAndJointAnglesAnatomical) {
  for (const auto& [parent, child] : kHandBones) EXPECT_EQ(kHandParent[static_cast<size_t>(child)], parent);
  const auto template_mm = synthetic_hand_bone_lengths_mm();
  EXPECT_NEAR(template_mm[kMiddleMcp], 83.0, 1.0);  // wrist -> middle MCP of an adult hand
  double min_pip = 1e9, max_pip = -1e9, min_scale = 1e9, max_scale = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const HandSample s = synthetic_hand(seed, 128);
    const double scale = hand_reference_bone_mm(s.xyz_mm) / template_mm[kMiddleMcp];
    min_scale = std::min(min_scale, scale), max_scale = std::max(max_scale, scale);
    for (const auto& [parent, child] : kHandBones)
      EXPECT_NEAR(cv::norm(s.xyz_mm[static_cast<size_t>(child)] - s.xyz_mm[static_cast<size_t>(parent)]),
                  scale * template_mm[static_cast<size_t>(child)], 1e-9)
          << "bone " << kHandJointNames[static_cast<size_t>(child)] << ", seed " << seed;
    for (int f = 1; f < 5; ++f) {  // PIP and DIP of the four fingers: 0..110 and 0..80 degrees
      const auto& p = s.xyz_mm;
      const double pip = angle_deg(p[4 * f + 2] - p[4 * f + 1], p[4 * f + 3] - p[4 * f + 2]);
      const double dip = angle_deg(p[4 * f + 3] - p[4 * f + 2], p[4 * f + 4] - p[4 * f + 3]);
      EXPECT_LE(pip, 110 + 1e-6);
      EXPECT_LE(dip, 80 + 1e-6);
      min_pip = std::min(min_pip, pip), max_pip = std::max(max_pip, pip);
    }
  }
  EXPECT_GE(min_scale, 0.85 - 1e-9);
  EXPECT_LE(max_scale, 1.15 + 1e-9);
  EXPECT_GT(max_scale - min_scale, 0.2);
  EXPECT_LT(min_pip, 5);  // straight and strongly bent fingers both occur
  EXPECT_GT(max_pip, 95);
}

TEST(HandSynth, FastEnoughToGenerateOnTheFly) {
  const int n = 400;
  const auto start = std::chrono::steady_clock::now();
  double checksum = 0;
  for (int i = 0; i < n; ++i) checksum += synthetic_hand(static_cast<uint64_t>(i), 128).uv[0].x;
  const double per_second = n / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "synthetic_hand(128 px), one thread: " << per_second << " samples/s (checksum " << checksum << ")\n";
  EXPECT_GT(per_second, 50);  // loose: shared CI machines and sanitizer builds; Release measures far more
}

}  // namespace
}  // namespace zoo
