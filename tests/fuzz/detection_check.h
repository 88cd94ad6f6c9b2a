#pragma once
// What every detection loader returns when it succeeds, checked by the detection fuzz targets.
#include "data/detection_formats.h"
#include "tests/fuzz/fuzz_util.h"

namespace zoo::fuzz {

// Empty files a.jpg and b.jpg in the scratch folder, for annotations to name (the loaders only
// check that images exist); written on the first call.
inline void write_named_images_once() {
  static const bool written = [] {
    write_file("a.jpg", "", 0);
    write_file("b.jpg", "", 0);
    return true;
  }();
  (void)written;
}

inline void check_dataset(const DetectionDataset& d) {
  require(!d.samples.empty(), "at least one image");
  for (const auto& s : d.samples) {
    require(s.width > 0 && s.height > 0, "positive image size");
    require(s.boxes.size() == s.labels.size(), "one label per box");
    for (size_t i = 0; i < s.boxes.size(); ++i) {
      const auto& b = s.boxes[i];
      require(0 <= b[0] && b[0] < b[2] && b[2] <= s.width && 0 <= b[1] && b[1] < b[3] && b[3] <= s.height,
              "boxes are non-degenerate and inside the image");
      require(s.labels[i] >= 1 && static_cast<size_t>(s.labels[i]) <= d.class_names.size(),
              "labels are 1..number of classes");
    }
  }
}

// Runs the loader under every bad-box policy; errors must name `names`.
template <class Load>
void load_all_policies(const std::string& names, Load load) {
  for (const auto policy : {BadBoxPolicy::clip, BadBoxPolicy::drop, BadBoxPolicy::reject}) {
    DetectionLoadOptions options;
    options.policy = policy;
    options.image_dir = scratch_dir();
    try {
      check_dataset(load(options));
    } catch (const zoo::UserError& e) {
      check_message(e, names);
    }
  }
}

}  // namespace zoo::fuzz
