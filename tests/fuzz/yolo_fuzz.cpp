// libFuzzer target: any bytes as a YOLO label file (load_yolo_dir on images/ holding one real
// 40x30 PNG and labels/ holding the input as its label file).
#include <cstddef>
#include <cstdint>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>

#include "tests/fuzz/detection_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool image = [] {
    cv::setNumThreads(0);  // decode on this thread: the fuzzer is one process per core
    const std::string path = zoo::fuzz::write_file("images/a.png", "", 0);
    return cv::imwrite(path, cv::Mat(30, 40, CV_8UC3, cv::Scalar(10, 20, 30)));
  }();
  zoo::fuzz::require(image, "the test image was written");
  zoo::fuzz::write_file("labels/a.txt", data, size);
  const std::string dir = zoo::fuzz::scratch_dir() + "/images";
  // Errors name the label file (labels/a.txt) or the images folder: both are in the scratch folder.
  zoo::fuzz::load_all_policies(zoo::fuzz::scratch_dir(), [&](const zoo::DetectionLoadOptions& o) { return zoo::load_yolo_dir(dir, o); });
  return 0;
}
