// Image files as untrusted input: truncated JPEG/PNG, oversized headers and tiny images are
// errors naming the file, before or instead of a silently different image.
#include "data/image_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "tests/scratch_dir.h"

namespace zoo {
namespace {

// Each test's files in a folder of its own, removed after it.
class ImageFile : public testing::ScratchDirTest {
 protected:
  std::string write_bytes(const std::string& name, const std::vector<uchar>& bytes) const {
    const std::string path = temp_path(name);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    return path;
  }
};

std::vector<uchar> encoded(const std::string& ext, int side) {
  cv::Mat image(side, side, CV_8UC3);
  cv::randu(image, 0, 255);
  std::vector<uchar> bytes;
  cv::imencode(ext, image, bytes);
  return bytes;
}

std::string error_of(const std::string& path) {
  try {
    read_image_file(path, cv::IMREAD_COLOR);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST_F(ImageFile, GoodFilesDecode) {
  for (const std::string ext : {".jpg", ".png"}) {
    const std::string path = write_bytes("good" + ext, encoded(ext, 32));
    const cv::Mat image = read_image_file(path, cv::IMREAD_COLOR);
    EXPECT_EQ(image.cols, 32) << ext;
    EXPECT_EQ(image.type(), CV_8UC3);
  }
}

TEST_F(ImageFile, TruncatedFilesAreErrors) {
  for (const std::string ext : {".jpg", ".png"}) {
    auto bytes = encoded(ext, 64);
    bytes.resize(bytes.size() / 2);
    const std::string path = write_bytes("cut" + ext, bytes);
    EXPECT_EQ(error_of(path), path + (ext == ".jpg" ? ": cannot decode image: truncated JPEG (no end-of-image marker)"
                                                     : ": cannot decode image: truncated PNG (no IEND chunk)"));
  }
}

TEST_F(ImageFile, OversizedHeaderIsRefusedBeforeDecoding) {
  // A small PNG whose header claims 20000 x 20000 (the decoder is never reached).
  auto bytes = encoded(".png", 16);
  for (int i = 0; i < 2; ++i) {
    const uint32_t v = 20000;
    for (int k = 0; k < 4; ++k) bytes[16 + 4 * i + k] = static_cast<uchar>(v >> (24 - 8 * k));
  }
  const std::string path = write_bytes("huge.png", bytes);
  EXPECT_EQ(error_of(path), path + ": image of 20000 x 20000 pixels exceeds the limit of 50000000 pixels");
}

TEST_F(ImageFile, TinyAndMissingAndGarbage) {
  const std::string tiny = write_bytes("tiny.png", encoded(".png", 1));
  EXPECT_NE(error_of(tiny).find("image of 1 x 1 pixels is too small"), std::string::npos) << error_of(tiny);
  EXPECT_EQ(error_of("/nonexistent/x.png"), "/nonexistent/x.png: cannot decode image");
  const std::string garbage = write_bytes("garbage.png", {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
  EXPECT_EQ(error_of(garbage), garbage + ": cannot decode image");
}

}  // namespace
}  // namespace zoo
