#include "data/hand_augment.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>
#include <stdexcept>
#include <string>

#include "data/sampling.h"

namespace zoo {

namespace {

void check_sample(const HandSample& s, const char* who) {
  if (s.image.empty()) throw std::invalid_argument(std::string(who) + ": empty image (" + s.source + ")");
  if (s.image.type() != CV_8UC3)
    throw std::invalid_argument(std::string(who) + ": image must be BGR uint8 (" + s.source + ")");
  if (s.uv.size() != s.xyz_mm.size() || s.visible.size() != s.xyz_mm.size())
    throw std::invalid_argument(std::string(who) + ": xyz, uv and visible sizes differ (" + s.source + ")");
}

// Labels of `s` after the image map A, for an output image of `size`.
void transform_labels(HandSample& s, const cv::Matx23d& A, cv::Size size) {
  const cv::Matx33d A3(A(0, 0), A(0, 1), A(0, 2), A(1, 0), A(1, 1), A(1, 2), 0, 0, 1);
  s.K = A3 * s.K;
  for (size_t j = 0; j < s.uv.size(); ++j) {
    const cv::Point2d p = s.uv[j];
    s.uv[j] = {A(0, 0) * p.x + A(0, 1) * p.y + A(0, 2), A(1, 0) * p.x + A(1, 1) * p.y + A(1, 2)};
    // Inside = on some pixel of the output (pixel centres at integers, edges at +-0.5).
    const bool inside =
        s.uv[j].x >= -0.5 && s.uv[j].y >= -0.5 && s.uv[j].x < size.width - 0.5 && s.uv[j].y < size.height - 0.5;
    if (!inside) s.visible[j] = 0.0f;
  }
}

}  // namespace

cv::Mat jitter_colour(const cv::Mat& bgr, double brightness, double contrast, double saturation, double hue_deg) {
  cv::Mat out;
  // brightness * ((x - m) * contrast + m), one saturating pass.
  const cv::Scalar m = cv::mean(bgr);
  const double grey = (m[0] + m[1] + m[2]) / 3;
  bgr.convertTo(out, -1, brightness * contrast, brightness * grey * (1 - contrast));
  const int hue_shift = cvRound(hue_deg / 2);  // 8-bit HSV stores hue in 2-degree steps (0..179)
  if (saturation == 1.0 && hue_shift == 0) return out;
  cv::Mat lut(1, 256, CV_8UC3);
  for (int i = 0; i < 256; ++i)
    lut.at<cv::Vec3b>(0, i) = cv::Vec3b(static_cast<uchar>(i < 180 ? ((i + hue_shift) % 180 + 180) % 180 : i),
                                        cv::saturate_cast<uchar>(i * saturation), static_cast<uchar>(i));
  cv::cvtColor(out, out, cv::COLOR_BGR2HSV);
  cv::LUT(out, lut, out);
  cv::cvtColor(out, out, cv::COLOR_HSV2BGR);
  return out;
}

HandSample warp_hand(const HandSample& sample, const cv::Matx23d& A, cv::Size size, int border_mode,
                     const cv::Scalar& border_value) {
  check_sample(sample, "warp_hand");
  HandSample s = sample;
  // Bilinear sampling of a shrinking map skips pixels; blurring first to about the output's
  // resolution keeps fine structures (fingers at 128 px) from aliasing. Symmetric, so the
  // position of every feature, and hence the labels, are unchanged.
  const double shrink = std::sqrt(std::abs(A(0, 0) * A(1, 1) - A(0, 1) * A(1, 0)));
  cv::Mat src = sample.image;
  if (shrink < 0.7) cv::GaussianBlur(src, src, cv::Size(0, 0), 0.5 * std::sqrt(1 / (shrink * shrink) - 1));
  cv::warpAffine(src, s.image, cv::Mat(A), size, cv::INTER_LINEAR, border_mode, border_value);
  transform_labels(s, A, size);
  return s;
}

HandSample resize_to(const HandSample& sample, int size) {
  check_sample(sample, "resize_to");
  if (size < 1) throw std::invalid_argument("resize_to: size must be positive, got " + std::to_string(size));
  HandSample s = sample;
  const double sx = static_cast<double>(size) / sample.image.cols, sy = static_cast<double>(size) / sample.image.rows;
  if (sample.image.cols != size || sample.image.rows != size)
    cv::resize(sample.image, s.image, cv::Size(size, size), 0, 0, sx < 1 && sy < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  transform_labels(s, cv::Matx23d(sx, 0, (sx - 1) / 2, 0, sy, (sy - 1) / 2), cv::Size(size, size));
  return s;
}

HandSample augment(const HandSample& sample, const AugmentOptions& o, uint64_t seed) {
  check_sample(sample, "augment");
  if (o.scale_min <= 0 || o.scale_max < o.scale_min)
    throw std::invalid_argument("augment: need 0 < scale_min <= scale_max");
  if (o.hand_fill > 0 && !o.center_on_hand) throw std::invalid_argument("augment: hand_fill needs center_on_hand");
  std::mt19937_64 rng(seed);
  // Fixed draw order (see header).
  const double angle = uniform(rng, -o.rotation_deg, o.rotation_deg);
  const double zoom = uniform(rng, o.scale_min, o.scale_max);
  const double tx = uniform(rng, -o.translate, o.translate), ty = uniform(rng, -o.translate, o.translate);
  const double brightness = uniform(rng, 1 - o.brightness, 1 + o.brightness);
  const double contrast = uniform(rng, 1 - o.contrast, 1 + o.contrast);
  const double saturation = uniform(rng, 1 - o.saturation, 1 + o.saturation);
  const double hue = uniform(rng, -o.hue_deg, o.hue_deg);

  const int out = o.output_size > 0 ? o.output_size : std::max(sample.image.cols, sample.image.rows);
  cv::Point2d centre((sample.image.cols - 1) / 2.0, (sample.image.rows - 1) / 2.0);
  double base = static_cast<double>(out) / std::max(sample.image.cols, sample.image.rows);
  if (o.center_on_hand) {
    double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
    for (size_t j = 0; j < sample.uv.size(); ++j)
      if (sample.visible[j] > 0) {
        x0 = std::min(x0, sample.uv[j].x), x1 = std::max(x1, sample.uv[j].x);
        y0 = std::min(y0, sample.uv[j].y), y1 = std::max(y1, sample.uv[j].y);
      }
    if (x1 >= x0) {  // some joint visible
      centre = {(x0 + x1) / 2, (y0 + y1) / 2};
      if (o.hand_fill > 0) base = o.hand_fill * out / std::max({x1 - x0, y1 - y0, 1.0});
    }
  }
  // A = T(output centre + shift) · zoom · R(angle) · base · T(-centre)
  const double a = angle * CV_PI / 180, s = base * zoom;
  const double c = std::cos(a) * s, d = std::sin(a) * s;
  const double ox = (out - 1) / 2.0 + tx * out, oy = (out - 1) / 2.0 + ty * out;
  const cv::Matx23d A(c, -d, ox - (c * centre.x - d * centre.y), d, c, oy - (d * centre.x + c * centre.y));

  HandSample coloured = sample;
  coloured.image = jitter_colour(sample.image, brightness, contrast, saturation, hue);
  return warp_hand(coloured, A, cv::Size(out, out), o.border_mode, o.border_value);
}

}  // namespace zoo
