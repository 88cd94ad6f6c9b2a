#pragma once
// Keypoint-consistent augmentation of HandSamples.
//
// Every geometric change of the image is one 2x3 affine map A (pixel-centre convention of
// hand_sample.h, the one cv::warpAffine and cv::resize use) applied to the image, and the same
// map is applied to the labels:
//   K_new = [A; 0 0 1] · K,   uv_new = A · [uv; 1],   xyz unchanged,
// so uv_new == project(K_new, xyz) whenever uv == project(K, xyz) held before (an affine map of
// the image is an affine map of the normalised camera plane). A joint that lands outside the
// output image gets visible = 0; a joint already invisible stays invisible.
//
// No horizontal flip on purpose: mirroring the image while keeping xyz would need a K with a
// negative focal length (the 3D labels describe the unmirrored hand), and mirroring xyz turns a
// right hand into a left one.
#include <cstdint>
#include <opencv2/core.hpp>

#include "data/hand_sample.h"

namespace zoo {

struct AugmentOptions {
  int output_size = 0;  // square output side in pixels; 0 = the input's larger side

  // Geometry: the centre (image centre, or the centre of the visible joints' 2D box when
  // center_on_hand) goes to the output centre, then rotation, zoom and shift are applied about
  // the output centre. Base scale: output_size / input's larger side, or, when hand_fill > 0
  // (needs center_on_hand), such that the joints' box's larger side is hand_fill x output_size.
  bool center_on_hand = false;
  double hand_fill = 0.0;
  double rotation_deg = 30.0;  // in-plane rotation uniform in [-r, r]
  double scale_min = 0.85;     // zoom factor uniform in [scale_min, scale_max]
  double scale_max = 1.15;
  double translate = 0.08;  // shift per axis uniform in [-t, t] x output_size
  int border_mode = cv::BORDER_CONSTANT;
  cv::Scalar border_value = cv::Scalar(0, 0, 0);

  // Colour jitter: factors uniform in [1 - x, 1 + x] (0 = off), hue shift uniform in +-hue_deg.
  // Brightness scales, contrast scales about the image's mean grey; saturation and hue go
  // through HSV (cv::cvtColor). Applied before the warp so borders keep border_value.
  double brightness = 0.25;
  double contrast = 0.25;
  double saturation = 0.25;
  double hue_deg = 8.0;
};

// Random geometric + colour augmentation, a pure function of (sample, options, seed). The random
// draws come in a fixed order whatever the options, so changing one range does not reshuffle
// the others. Throws std::invalid_argument for an empty image or inconsistent label sizes.
HandSample augment(const HandSample& sample, const AugmentOptions& options, uint64_t seed);

// Applies the affine A (input pixels -> output pixels) to image and labels as described above,
// output size `size`. Pre-blurs when A shrinks by more than 1/0.7 so that the bilinear warp does
// not alias. The building block of augment; public for callers with their own crops.
HandSample warp_hand(const HandSample& sample, const cv::Matx23d& A, cv::Size size,
                     int border_mode = cv::BORDER_CONSTANT, const cv::Scalar& border_value = cv::Scalar());

// Resizes to size x size (cv::resize: INTER_AREA when shrinking, INTER_LINEAR when enlarging;
// a non-square input is stretched), updating K, uv and visible with the exact map of cv::resize:
// u' = sx·u + (sx - 1)/2.
HandSample resize_to(const HandSample& sample, int size);

// The colour part of augment on its own: brightness, contrast, saturation factors and hue shift
// (degrees). A factor of 1 and a shift of 0 leave the image unchanged.
cv::Mat jitter_colour(const cv::Mat& bgr, double brightness, double contrast, double saturation, double hue_deg);

}  // namespace zoo
