#pragma once
// What the detection format readers (detection_coco.cpp, detection_voc.cpp, detection_yolo.cpp,
// detection_csv.cpp) share: the bad-box policy, class names to labels, image paths (lines, fields,
// numbers and errors: data/text_lines.h). Internal to data/; users include data/detection_formats.h.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/detection_formats.h"
#include "data/text_lines.h"
#include "io/error.h"

namespace zoo {
namespace detection_load {

namespace fs = std::filesystem;

// Largest class id a YOLO label or a CSV class_id may have: class names are made for ids 0..max,
// so a corrupt id of 2000000000 would otherwise ask for two billion of them (and id + 1 overflow).
constexpr int kMaxClassId = 99999;
// Largest image width or height a label file may give: sizes are ints.
constexpr double kMaxImageSide = std::numeric_limits<int>::max();

inline std::string box_text(const std::array<float, 4>& b) {
  char text[96];
  std::snprintf(text, sizeof text, "box [%g, %g, %g, %g]", b[0], b[1], b[2], b[3]);
  return text;
}

inline std::string size_text(const DetectionSample& s) { return std::to_string(s.width) + "x" + std::to_string(s.height); }

// Applies options.policy to box b of sample s (whose size is set) and appends it when kept.
// `where` describes the box's place in the file; it is called only when something is wrong.
template <class Where>
void add_box(DetectionSample& s, const std::array<float, 4>& b, int label, const DetectionLoadOptions& options,
             DetectionLoadStats& stats, const Where& where) {
  auto note = [&](const std::string& what) {
    if (stats.first_problem.empty()) stats.first_problem = where() + ": " + what;
  };
  const float W = static_cast<float>(s.width), H = static_cast<float>(s.height), tol = options.edge_tolerance;
  if (b[0] < -tol || b[1] < -tol || b[2] < -tol || b[3] < -tol || b[0] > W + tol || b[2] > W + tol ||
      b[1] > H + tol || b[3] > H + tol) {
    const std::string what = box_text(b) + " is outside the " + size_text(s) + " image";
    if (options.policy == BadBoxPolicy::reject) fail(where(), what);
    if (options.policy == BadBoxPolicy::drop) {
      ++stats.dropped_outside;
      note(what + " (dropped)");
      return;
    }
  }
  const std::array<float, 4> c = {std::clamp(b[0], 0.0f, W), std::clamp(b[1], 0.0f, H), std::clamp(b[2], 0.0f, W),
                                   std::clamp(b[3], 0.0f, H)};
  if (!(c[2] > c[0] && c[3] > c[1] && c[2] - c[0] >= options.min_size && c[3] - c[1] >= options.min_size)) {
    char min_size[32];
    std::snprintf(min_size, sizeof min_size, "%g", options.min_size);
    const std::string what = box_text(b) + " is degenerate in the " + size_text(s) + " image (min_size " + min_size + ")";
    if (options.policy == BadBoxPolicy::reject) fail(where(), what);
    ++stats.dropped_degenerate;
    note(what + " (dropped)");
    return;
  }
  if (c != b) {
    ++stats.clipped;
    note(box_text(b) + " clipped to the " + size_text(s) + " image");
  }
  if (static_cast<int64_t>(s.boxes.size()) >= options.max_boxes_per_image)
    fail(where(), "more than " + std::to_string(options.max_boxes_per_image) +
                      " boxes in one image (the limit is data.max_boxes_per_image)");
  s.boxes.push_back(c);
  s.labels.push_back(label);
}

// VOC pixel indices -> continuous coordinates (see DetectionLoadOptions::voc_one_based).
inline std::array<float, 4> from_voc(const std::array<float, 4>& b, const DetectionLoadOptions& options) {
  if (!options.voc_one_based) return b;
  return {b[0] - 1, b[1] - 1, b[2], b[3]};
}

// Labels for data sets that name their classes: provisional ids in order of appearance while
// loading, then renumbered so that label k is the k-th name in sorted order (independent of the
// order of files and rows, so that a CSV and the XML it came from agree).
class NameLabels {
 public:
  int id(const std::string& name) {
    const auto [it, added] = ids_.emplace(name, static_cast<int>(names_.size()) + 1);
    if (added) names_.push_back(name);
    return it->second;
  }
  // Renumbers the labels of `samples`; returns the class names in label order.
  std::vector<std::string> finish(std::vector<DetectionSample>& samples) const {
    std::vector<std::string> sorted = names_;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int> relabel(names_.size() + 1);
    for (size_t k = 0; k < sorted.size(); ++k) relabel[static_cast<size_t>(ids_.at(sorted[k]))] = static_cast<int>(k) + 1;
    for (auto& s : samples)
      for (int& l : s.labels) l = relabel[static_cast<size_t>(l)];
    return sorted;
  }

 private:
  std::map<std::string, int> ids_;
  std::vector<std::string> names_;
};

// Fills the image and box counts of the stats; an empty data set is an error.
inline DetectionDataset finish(DetectionDataset d, const std::string& path) {
  if (d.samples.empty()) fail(path, "no images");
  d.stats.images = static_cast<int64_t>(d.samples.size());
  for (const auto& s : d.samples) {
    d.stats.boxes += static_cast<int64_t>(s.boxes.size());
    if (s.boxes.empty()) ++d.stats.images_without_boxes;
  }
  return d;
}

inline void require_image(const std::string& image_path, const std::string& where) {
  std::error_code ec;
  if (!fs::is_regular_file(image_path, ec)) fail(where, "image " + image_path + " does not exist");
}

inline std::string join(const std::string& folder, const std::string& file) {
  return fs::path(file).is_absolute() ? file : (fs::path(folder) / file).string();
}

// images/ -> labels/ in the last path component named "images", as Ultralytics does
// (detection_yolo.cpp; the format dispatch looks for it too).
fs::path yolo_labels_dir(const fs::path& images_dir);

}  // namespace detection_load
}  // namespace zoo
