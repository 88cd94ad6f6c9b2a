#pragma once
// Image files as the loaders read them (hands, detection): untrusted input, checked before and
// after decoding so that a corrupt file is an error naming it, never a silently different image.
#include <opencv2/core.hpp>

#include <cstdint>
#include <string>

namespace zoo {

// Larger images are refused from their header, before decoding: a 20000 x 20000 PNG of 1.2 MB
// would otherwise take 1.2 GB and minutes to decode.
constexpr int64_t kMaxImagePixels = 50'000'000;
// Smaller images are refused: a 1 x 1 "image" in a data set is a broken file, not a sample.
constexpr int kMinImageSide = 2;

// Reads and decodes `path` (cv::imdecode flags). Throws std::runtime_error "PATH: cannot decode
// image[: why]" when the file cannot be read or decoded, is a JPEG without its end-of-image marker or a PNG without its
// IEND chunk (truncated: libjpeg would return a partly grey image with only a warning); and
// "PATH: image of W x H pixels ..." when it has more than kMaxImagePixels (PNG and JPEG: checked
// from the header, before decoding) or a side under kMinImageSide.
cv::Mat read_image_file(const std::string& path, int flags);

}  // namespace zoo
