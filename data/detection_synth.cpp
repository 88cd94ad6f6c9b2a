#include "data/detection_synth.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>
#include <stdexcept>
#include <string>

#include "data/sampling.h"

namespace zoo {

namespace {

double log_uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::exp(uniform(rng, std::log(lo), std::log(hi)));
}

cv::Vec3d random_colour(std::mt19937_64& rng) {
  return {uniform(rng, 0, 255), uniform(rng, 0, 255), uniform(rng, 0, 255)};
}

cv::Vec3b to_pixel(const cv::Vec3d& bgr) {
  return {cv::saturate_cast<uchar>(bgr[0]), cv::saturate_cast<uchar>(bgr[1]), cv::saturate_cast<uchar>(bgr[2])};
}

// Colour gradient (3x3 random colours, bilinear) crossed by random lines.
cv::Mat background(std::mt19937_64& rng, int width, int height) {
  cv::Mat grid(3, 3, CV_8UC3);
  for (int i = 0; i < 9; ++i) grid.at<cv::Vec3b>(i / 3, i % 3) = to_pixel(random_colour(rng));
  cv::Mat image;
  cv::resize(grid, image, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
  const int lines = 3 + static_cast<int>(uniform_index(rng, 10));
  for (int i = 0; i < lines; ++i) {
    const cv::Point a(static_cast<int>(uniform(rng, -0.2, 1.2) * width), static_cast<int>(uniform(rng, -0.2, 1.2) * height));
    const cv::Point b(static_cast<int>(uniform(rng, -0.2, 1.2) * width), static_cast<int>(uniform(rng, -0.2, 1.2) * height));
    const cv::Vec3d c = random_colour(rng);
    cv::line(image, a, b, cv::Scalar(c[0], c[1], c[2]), 1 + static_cast<int>(uniform_index(rng, 3)), cv::LINE_AA);
  }
  return image;
}

// The filled shape `label` (1 rectangle, 2 ellipse, 3 polygon) of extent about w x h around
// `centre`, as a 0/255 mask. No anti-aliasing: a pixel is the object's or not.
cv::Mat shape_mask(std::mt19937_64& rng, int label, cv::Point2d centre, double w, double h, cv::Size size) {
  cv::Mat mask = cv::Mat::zeros(size, CV_8UC1);
  if (label == 1) {
    cv::rectangle(mask, cv::Rect(cvRound(centre.x - w / 2), cvRound(centre.y - h / 2), cvRound(w), cvRound(h)),
                  cv::Scalar(255), cv::FILLED);
  } else if (label == 2) {
    // Rotated a little only: a strongly rotated thin ellipse would have a square-ish box.
    const double angle = uniform(rng, -25, 25);
    cv::ellipse(mask, cv::RotatedRect(cv::Point2f(centre), cv::Size2f(static_cast<float>(w), static_cast<float>(h)),
                                      static_cast<float>(angle)),
                cv::Scalar(255), cv::FILLED, cv::LINE_8);
  } else {
    // Star-shaped around the centre (vertices at increasing angles), so never self-intersecting.
    const int n = 3 + static_cast<int>(uniform_index(rng, 6));
    const double start = uniform(rng, 0, 2 * CV_PI);
    std::vector<cv::Point> points;
    for (int k = 0; k < n; ++k) {
      const double t = start + 2 * CV_PI * (k + uniform(rng, -0.3, 0.3)) / n, r = uniform(rng, 0.6, 1.0);
      points.emplace_back(cvRound(centre.x + r * w / 2 * std::cos(t)), cvRound(centre.y + r * h / 2 * std::sin(t)));
    }
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{points}, cv::Scalar(255), cv::LINE_8);
  }
  return mask;
}

// Paints the object through its mask only: base colour shaded along a random direction, and an
// outline (the mask's inner rim, 1-2 px) much darker or lighter so that the object's edge shows
// even on a background of its own colour.
void paint(std::mt19937_64& rng, cv::Mat& image, const cv::Mat& mask) {
  const cv::Rect roi = cv::boundingRect(mask);
  const cv::Vec3d base = random_colour(rng);
  const double direction = uniform(rng, 0, 2 * CV_PI), strength = uniform(rng, 0.1, 0.5);
  const double dx = std::cos(direction) * strength / std::max(roi.width, roi.height),
               dy = std::sin(direction) * strength / std::max(roi.width, roi.height);
  cv::Mat inner;
  cv::erode(mask, inner, cv::Mat(), cv::Point(-1, -1), 1 + static_cast<int>(uniform_index(rng, 2)));
  const bool dark_outline = cv::norm(base) > 220;
  const cv::Vec3d outline = dark_outline ? base * 0.3 : base * 0.4 + cv::Vec3d(150, 150, 150);
  const double cx = roi.x + roi.width / 2.0, cy = roi.y + roi.height / 2.0;
  for (int y = roi.y; y < roi.y + roi.height; ++y)
    for (int x = roi.x; x < roi.x + roi.width; ++x) {
      if (!mask.at<uchar>(y, x)) continue;
      image.at<cv::Vec3b>(y, x) =
          to_pixel(inner.at<uchar>(y, x) ? base * (1 + (x - cx) * dx + (y - cy) * dy) : outline);
    }
}

}  // namespace

SyntheticDetection synthetic_detection(uint64_t seed, int64_t index, const DetectionSynthOptions& options) {
  if (options.width < 64 || options.height < 64 || options.max_objects < 1)
    throw std::invalid_argument("synthetic_detection: width and height must be >= 64 and max_objects >= 1");
  std::mt19937_64 rng(mix_seed(seed, static_cast<uint64_t>(index)));
  int W = options.width, H = options.height;
  if (options.vary_size) {
    W = static_cast<int>(uniform(rng, W / 2.0, W + 1.0));
    H = static_cast<int>(uniform(rng, H / 2.0, H + 1.0));
  }
  SyntheticDetection out;
  out.image = background(rng, W, H);
  out.instances = cv::Mat::zeros(H, W, CV_16UC1);
  out.sample.image_path = "synthetic:" + std::to_string(seed) + ":" + std::to_string(index);
  out.sample.width = W;
  out.sample.height = H;

  const int wanted = 1 + static_cast<int>(uniform_index(rng, options.max_objects));
  const double side = std::min(W, H);
  std::vector<int> area;  // pixels of each placed object's full mask
  for (int attempt = 0; attempt < 4 * wanted && static_cast<int>(area.size()) < wanted; ++attempt) {
    const int label = 1 + static_cast<int>(uniform_index(rng, kSyntheticShapeClasses));
    const double s = log_uniform(rng, 0.06, 0.6) * side, aspect = log_uniform(rng, 1.0 / 3, 3.0);
    const double w = std::clamp(s * std::sqrt(aspect), 4.0, 0.9 * W), h = std::clamp(s / std::sqrt(aspect), 4.0, 0.9 * H);
    const cv::Point2d centre(uniform(rng, w / 2, W - w / 2), uniform(rng, h / 2, H - h / 2));
    const cv::Mat mask = shape_mask(rng, label, centre, w, h, out.image.size());
    const int pixels = cv::countNonZero(mask);
    if (pixels < 16) continue;
    // Visible pixels of every earlier object, and how many of them the new one would cover.
    std::vector<int> visible(area.size() + 1), covered(area.size() + 1);
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        const uint16_t id = out.instances.at<uint16_t>(y, x);
        ++visible[id];
        if (mask.at<uchar>(y, x)) ++covered[id];
      }
    bool hides_too_much = false;
    for (size_t j = 1; j < visible.size(); ++j) hides_too_much |= 2 * (visible[j] - covered[j]) < area[j - 1];
    if (hides_too_much) continue;
    paint(rng, out.image, mask);
    area.push_back(pixels);
    out.instances.setTo(cv::Scalar(static_cast<double>(area.size())), mask);
    out.sample.labels.push_back(label);
  }
  for (size_t i = 0; i < area.size(); ++i) {
    const cv::Rect r = cv::boundingRect(out.instances == static_cast<double>(i + 1));
    out.sample.boxes.push_back({static_cast<float>(r.x), static_cast<float>(r.y), static_cast<float>(r.x + r.width),
                                static_cast<float>(r.y + r.height)});
  }
  // Sensor noise last, over objects and background alike.
  cv::Mat noise(H, W, CV_16SC3);
  cv::RNG(rng()).fill(noise, cv::RNG::NORMAL, 0, uniform(rng, 2, 8));
  cv::add(out.image, noise, out.image, cv::noArray(), CV_8U);
  return out;
}

}  // namespace zoo
