#include "data/detection_formats.h"

#include <opencv2/imgcodecs.hpp>

#include "data/detection_load_util.h"
#include "data/image_file.h"

namespace zoo {

using namespace detection_load;

std::string DetectionLoadStats::summary() const {
  std::string s = std::to_string(images) + " images, " + std::to_string(boxes) + " boxes";
  auto part = [&](int64_t n, const char* what) {
    if (n) s += ", " + std::to_string(n) + " " + what;
  };
  part(images_without_boxes, "images without boxes");
  part(crowd_skipped, "crowd annotations skipped");
  part(clipped, "boxes clipped to the image");
  part(dropped_outside, "out-of-image boxes dropped");
  part(dropped_degenerate, "degenerate boxes dropped");
  part(orphan_labels, "label files without an image ignored");
  if (!first_problem.empty()) s += "; first: " + first_problem;
  return s;
}

namespace {

bool has_xml(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".xml") return true;
  return false;
}

}  // namespace

DetectionDataset load_detection_dataset(const std::string& path, const std::string& format,
                                        const DetectionLoadOptions& options) {
  if (format == "coco") return load_coco_json(path, options);
  if (format == "voc") return load_voc_dir(path, options);
  if (format == "yolo") return load_yolo_dir(path, options);
  if (format == "csv") return load_detection_csv(path, options);
  if (format != "auto")
    throw std::invalid_argument("load_detection_dataset: format must be auto, coco, voc, yolo or csv, got \"" +
                                format + "\"");
  const fs::path p(path);
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) {
    if (p.extension() == ".json") return load_coco_json(path, options);
    if (p.extension() == ".csv") return load_detection_csv(path, options);
  } else if (fs::is_directory(p, ec)) {
    if (has_xml(p)) return load_voc_dir(path, options);
    for (const char* sub : {"annotations", "Annotations"})
      if (has_xml(p / sub)) return load_voc_dir((p / sub).string(), options);
    if (fs::is_directory(p / "images", ec) && fs::is_directory(p / "labels", ec)) return load_yolo_dir(path, options);
    const fs::path normal = p.lexically_normal();
    if (std::find(normal.begin(), normal.end(), "images") != normal.end() &&
        fs::is_directory(yolo_labels_dir(normal), ec))
      return load_yolo_dir(path, options);
  }
  fail(path,
       "unknown detection data format (expected a COCO .json, a .csv, a folder of VOC .xml files or a YOLO "
       "images/labels folder)");
}

cv::Mat load_detection_image(const DetectionSample& sample) {
  cv::Mat image = read_image_file(sample.image_path, cv::IMREAD_COLOR);
  if (sample.width > 0 && (image.cols != sample.width || image.rows != sample.height))
    fail(sample.image_path, "decoded " + std::to_string(image.cols) + "x" + std::to_string(image.rows) +
                                " but the labels are for " + size_text(sample));
  return image;
}

}  // namespace zoo
