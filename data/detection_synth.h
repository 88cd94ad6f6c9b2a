#pragma once
// Deterministic synthetic detection images with exact boxes: quickstarts, tests and RPN sanity
// runs without a download. Objects are filled rectangles, ellipses and polygons (labels 1, 2, 3)
// of sizes from ~6 % to ~60 % of the image side and aspect ratios 1:3 to 3:1, with shading and
// an outline, on a textured background (colour gradient, random lines, sensor noise). A later
// object may hide part of an earlier one, but never more than half of it.
//
// The truth is taken from the pixels: every object is first drawn into a mask, its colours are
// painted through that mask only, and its box is the tight box of the part of the mask still
// visible at the end (cv::boundingRect of the instance map). So a box touches the object's
// outermost visible pixels exactly, on all four sides.
#include <cstdint>
#include <opencv2/core.hpp>

#include "data/detection_sample.h"

namespace zoo {

constexpr int kSyntheticShapeClasses = 3;
constexpr const char* kSyntheticShapeNames[kSyntheticShapeClasses] = {"rectangle", "ellipse", "polygon"};

struct DetectionSynthOptions {
  int width = 256, height = 256;  // at least 64 each (std::invalid_argument otherwise)
  bool vary_size = false;         // true: each side drawn from [size / 2, size] per image
  int max_objects = 6;            // 1..max_objects objects per image (fewer when they do not fit)
};

struct SyntheticDetection {
  cv::Mat image;           // BGR uint8
  cv::Mat instances;       // CV_16UC1, same size: 1 + the box index of the object seen there, 0 = background
  DetectionSample sample;  // image_path "synthetic:<seed>:<index>", size, boxes, labels (1..3)
};

// A pure function of (seed, index, options): sample `index` of the data set `seed`.
SyntheticDetection synthetic_detection(uint64_t seed, int64_t index, const DetectionSynthOptions& options = {});

}  // namespace zoo
