#include "data/image_file.h"

#include "data/text_lines.h"

#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace zoo {

namespace {

namespace fs = std::filesystem;

uint32_t big_endian(const uchar* p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

bool is_png(const std::vector<uchar>& b) {
  static const uchar sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return b.size() >= 8 && std::equal(sig, sig + 8, b.begin());
}
bool is_jpeg(const std::vector<uchar>& b) { return b.size() >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff; }

// Width and height from a PNG's IHDR or a JPEG's start-of-frame segment; {0, 0} when not found.
std::pair<int64_t, int64_t> header_size(const std::vector<uchar>& b) {
  if (is_png(b) && b.size() >= 24) return {big_endian(&b[16], 4), big_endian(&b[20], 4)};
  if (!is_jpeg(b)) return {0, 0};
  size_t i = 2;
  while (i + 9 < b.size()) {
    if (b[i] != 0xff) return {0, 0};
    const uchar marker = b[i + 1];
    if (marker == 0xff) {  // fill byte
      ++i;
      continue;
    }
    const size_t length = big_endian(&b[i + 2], 2);
    // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc)
      return {big_endian(&b[i + 7], 2), big_endian(&b[i + 5], 2)};
    if (length < 2) return {0, 0};
    i += 2 + length;
  }
  return {0, 0};
}

}  // namespace

cv::Mat read_image_file(const std::string& path, int flags) {
  // Read the bytes ourselves and decode with imdecode: cv::imread would also fail on a missing
  // file, but logs its own warning to stderr first.
  std::vector<uchar> bytes;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail(path, "cannot decode image");
  const auto size = fs::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (!ec) bytes.resize(static_cast<size_t>(size));
  if (ec || !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size())))
    fail(path, "cannot decode image");
  const auto [width, height] = header_size(bytes);
  if (width > 0 && height > 0 && width * height > kMaxImagePixels)
    fail(path, "image of " + std::to_string(width) + " x " + std::to_string(height) + " pixels exceeds the limit of " +
                   std::to_string(kMaxImagePixels) + " pixels");
  if (is_jpeg(bytes)) {  // the end-of-image marker, possibly followed by padding
    size_t end = bytes.size();
    while (end > 2 && bytes[end - 1] == 0) --end;
    if (end < 4 || bytes[end - 2] != 0xff || bytes[end - 1] != 0xd9) fail(path, "cannot decode image: truncated JPEG (no end-of-image marker)");
  }
  if (is_png(bytes)) {
    static const uchar iend[8] = {'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    if (bytes.size() < 20 || !std::equal(iend, iend + 8, bytes.end() - 8)) fail(path, "cannot decode image: truncated PNG (no IEND chunk)");
  }
  cv::Mat image = bytes.empty() ? cv::Mat() : cv::imdecode(bytes, flags);
  if (image.empty()) fail(path, "cannot decode image");
  if (image.cols < kMinImageSide || image.rows < kMinImageSide)
    fail(path, "image of " + std::to_string(image.cols) + " x " + std::to_string(image.rows) +
                   " pixels is too small to be an image (at least " + std::to_string(kMinImageSide) + " per side)");
  return image;
}

}  // namespace zoo
