// Keypoint-consistent augmentation: drawn dots stay on their labels through warp and resize, K
// follows every geometric change (uv == project(K_new, xyz)), visibility, colour jitter.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "data/hand_augment.h"
#include "data/hand_synth.h"

namespace zoo {
namespace {

cv::Scalar dot_colour(int j) {  // 21 distinct saturated hues
  cv::Mat hsv(1, 1, CV_8UC3, cv::Scalar(j * 180 / kHandJoints, 255, 255)), bgr;
  cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
  const auto c = bgr.at<cv::Vec3b>(0, 0);
  return cv::Scalar(c[0], c[1], c[2]);
}

// A black size x size image with a dot of radius 3 at each of 21 sub-pixel positions on a grid
// (>= 24 px apart), labels consistent with a camera looking at them from 500 mm.
HandSample dots_sample(int size) {
  HandSample s;
  s.image = cv::Mat::zeros(size, size, CV_8UC3);
  s.K = cv::Matx33d(400, 0, (size - 1) / 2.0, 0, 400, (size - 1) / 2.0, 0, 0, 1);
  for (int j = 0; j < kHandJoints; ++j) {
    const cv::Point2d uv(18 + (j % 5) * (size - 36) / 4.0 + 0.37 * (j % 3),
                         18 + (j / 5) * (size - 36) / 4.0 + 0.21 * (j % 4));
    s.uv.push_back(uv);
    s.xyz_mm.emplace_back((uv.x - s.K(0, 2)) * 500 / 400, (uv.y - s.K(1, 2)) * 500 / 400, 500);
    s.visible.push_back(1);
    cv::circle(s.image, cv::Point(cvRound(uv.x * 16), cvRound(uv.y * 16)), 3 * 16, dot_colour(j), cv::FILLED,
               cv::LINE_AA, 4);
  }
  s.source = "dots";
  return s;
}

// Intensity-weighted centroid of the pixels within 6 px of `expected` whose colour is dot j's;
// the number of such pixels (by weight) in `mass`.
cv::Point2d dot_centroid(const cv::Mat& img, const cv::Point2d& expected, int j, double& mass) {
  const cv::Scalar c = dot_colour(j);
  const double cc = c.dot(c);
  cv::Point2d sum(0, 0);
  mass = 0;
  for (int y = cvRound(expected.y) - 6; y <= cvRound(expected.y) + 6; ++y)
    for (int x = cvRound(expected.x) - 6; x <= cvRound(expected.x) + 6; ++x) {
      if (x < 0 || y < 0 || x >= img.cols || y >= img.rows) continue;
      const auto p = img.at<cv::Vec3b>(y, x);
      const cv::Scalar v(p[0], p[1], p[2]);
      // The pixel's fraction of colour j, counted only when it has that colour (not another dot's).
      const double a = v.dot(c) / cc, off = cv::norm(v - a * c);
      if (a > 0.02 && off < 0.25 * a * std::sqrt(cc)) {
        sum += a * cv::Point2d(x, y);
        mass += a;
      }
    }
  return mass > 0 ? sum / mass : cv::Point2d(-1e9, -1e9);
}

// Within 0.25 px (typical error 0.05): tight enough that a half-pixel convention slip in the
// resize map, (s - 1) / 2, fails when enlarging.
void expect_dots_on_labels(const HandSample& s, int min_checked) {
  int checked = 0;
  for (int j = 0; j < kHandJoints; ++j) {
    const cv::Point2d uv = s.uv[static_cast<size_t>(j)];
    if (uv.x < 7 || uv.y < 7 || uv.x > s.image.cols - 8 || uv.y > s.image.rows - 8) continue;  // dot clipped
    ASSERT_EQ(s.visible[static_cast<size_t>(j)], 1.0f);
    double mass = 0;
    const cv::Point2d c = dot_centroid(s.image, uv, j, mass);
    EXPECT_GT(mass, 5) << "dot " << j << " not found near its label";
    EXPECT_LT(cv::norm(c - uv), 0.25) << "dot " << j << " centroid " << c << " label " << uv;
    ++checked;
  }
  EXPECT_GE(checked, min_checked);
}

AugmentOptions geometric_only(int output_size) {
  AugmentOptions o;
  o.output_size = output_size;
  o.rotation_deg = 45;
  o.brightness = o.contrast = o.saturation = o.hue_deg = 0;
  return o;
}

TEST(HandAugment, DotsStayOnTheirLabelsThroughTheWarp) {
  const HandSample dots = dots_sample(160);
  expect_dots_on_labels(dots, kHandJoints);  // the detector itself
  for (uint64_t seed = 0; seed < 30; ++seed) {
    AugmentOptions o = geometric_only(128);
    o.center_on_hand = seed % 2 == 1;
    if (seed % 4 == 3) o.hand_fill = 0.6;  // a 0.6 x 128 / 130 px shrink: exercises the pre-blur
    expect_dots_on_labels(augment(dots, o, seed), 12);
  }
}

TEST(HandAugment, DotsStayOnTheirLabelsThroughResize) {
  expect_dots_on_labels(resize_to(dots_sample(160), 128), kHandJoints);  // INTER_AREA
  expect_dots_on_labels(resize_to(dots_sample(120), 200), kHandJoints);  // INTER_LINEAR
}

double max_projection_error(const HandSample& s) {
  double worst = 0;
  for (size_t j = 0; j < s.uv.size(); ++j) worst = std::max(worst, cv::norm(s.uv[j] - project_point(s.K, s.xyz_mm[j])));
  return worst;
}

TEST(HandAugment, IntrinsicsFollowEveryGeometricChange) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const HandSample s = synthetic_hand(seed, 160);
    ASSERT_LT(max_projection_error(s), 1e-9);
    AugmentOptions o;
    o.output_size = seed % 2 ? 128 : 96;
    o.center_on_hand = seed % 3 != 0;
    o.hand_fill = seed % 3 == 2 ? 0.8 : 0.0;
    o.rotation_deg = 180;
    o.translate = 0.3;  // some joints leave the image
    const HandSample a = augment(s, o, seed);
    EXPECT_LT(max_projection_error(a), 1e-6) << "seed " << seed;
    EXPECT_EQ(a.xyz_mm, s.xyz_mm);
    EXPECT_EQ(a.image.size(), cv::Size(o.output_size, o.output_size));
    for (size_t j = 0; j < a.uv.size(); ++j) {
      const bool inside =
          a.uv[j].x >= -0.5 && a.uv[j].y >= -0.5 && a.uv[j].x < o.output_size - 0.5 && a.uv[j].y < o.output_size - 0.5;
      EXPECT_EQ(a.visible[j], inside ? 1.0f : 0.0f);
    }
    EXPECT_LT(max_projection_error(resize_to(s, 77)), 1e-6);
  }
}

TEST(HandAugment, WarpAppliesTheGivenAffineToKAndLabels) {
  HandSample s = synthetic_hand(3, 128);
  s.visible[4] = 0;  // an unlabelled joint stays unlabelled
  const cv::Matx23d A(0.5, -0.2, 30, 0.1, 0.7, -10);
  const HandSample w = warp_hand(s, A, cv::Size(100, 90));
  EXPECT_EQ(w.image.size(), cv::Size(100, 90));
  const cv::Matx33d expected = cv::Matx33d(0.5, -0.2, 30, 0.1, 0.7, -10, 0, 0, 1) * s.K;
  EXPECT_LT(cv::norm(w.K - expected), 1e-12);
  EXPECT_EQ(w.visible[4], 0.0f);
  // Shifting the image left by 70 px puts the joints with u < 69.5 outside.
  const HandSample shifted = warp_hand(s, cv::Matx23d(1, 0, -70, 0, 1, 0), cv::Size(128, 128));
  int gone = 0;
  for (size_t j = 0; j < s.uv.size(); ++j) {
    EXPECT_EQ(shifted.visible[j], s.visible[j] > 0 && s.uv[j].x >= 69.5 ? 1.0f : 0.0f) << j;
    gone += shifted.visible[j] == 0;
  }
  EXPECT_GT(gone, 1);
}

TEST(HandAugment, ColourJitter) {
  const HandSample s = synthetic_hand(5, 64);
  EXPECT_EQ(cv::norm(jitter_colour(s.image, 1, 1, 1, 0), s.image, cv::NORM_INF), 0);
  EXPECT_NEAR(cv::mean(jitter_colour(s.image, 0.8, 1, 1, 0))[1], 0.8 * cv::mean(s.image)[1], 1.0);
  const cv::Mat red(4, 4, CV_8UC3, cv::Scalar(0, 0, 255));
  const auto yellow = jitter_colour(red, 1, 1, 1, 60).at<cv::Vec3b>(0, 0);  // hue 0 -> 60 degrees
  EXPECT_NEAR(yellow[1], 255, 2);
  EXPECT_NEAR(yellow[2], 255, 2);
  EXPECT_NEAR(yellow[0], 0, 2);
  const auto grey = jitter_colour(cv::Mat(4, 4, CV_8UC3, cv::Scalar(40, 90, 200)), 1, 1, 0, 0).at<cv::Vec3b>(0, 0);
  EXPECT_EQ(grey[0], grey[1]);
  EXPECT_EQ(grey[1], grey[2]);
  // Lower contrast pulls towards the mean grey: the spread shrinks.
  cv::Scalar m0, s0, m1, s1;
  cv::meanStdDev(s.image, m0, s0);
  cv::meanStdDev(jitter_colour(s.image, 1, 0.5, 1, 0), m1, s1);
  EXPECT_NEAR(s1[0], 0.5 * s0[0], 1.0);
}

TEST(HandAugment, PureFunctionOfTheSeed) {
  const HandSample s = synthetic_hand(11, 128);
  const AugmentOptions o;
  const HandSample a = augment(s, o, 42), b = augment(s, o, 42), c = augment(s, o, 43);
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0);
  EXPECT_EQ(a.uv, b.uv);
  EXPECT_GT(cv::norm(a.image, c.image, cv::NORM_INF), 0);
  EXPECT_NE(a.uv, c.uv);
  EXPECT_THROW(augment(HandSample{}, o, 1), std::invalid_argument);
}

}  // namespace
}  // namespace zoo
