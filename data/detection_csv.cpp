// CSV box lists (load_detection_csv, data/detection_formats.h).
#include "data/detection_load_util.h"

namespace zoo {

using namespace detection_load;

DetectionDataset load_detection_csv(const std::string& csv_path, const DetectionLoadOptions& options) {
  const auto lines = read_lines(csv_path);
  if (lines.empty() || trim(lines[0]).empty()) fail(csv_path, "no header line");
  const auto names = split_csv_line(lines[0]);
  std::map<std::string, size_t> column;
  for (size_t c = 0; c < names.size(); ++c) column.emplace(names[c], c);
  auto has = [&](const char* name) { return column.count(name) > 0; };
  auto require = [&](std::initializer_list<const char*> alternatives) {
    for (const char* name : alternatives)
      if (has(name)) return column[name];
    std::string list;
    for (const char* name : alternatives) list += (list.empty() ? "" : " or ") + std::string(name);
    fail(csv_path + ":1", "missing column " + list);
  };
  const size_t image_col = require({"filename", "image"}), width_col = require({"width"}),
               height_col = require({"height"}), class_col = require({"class", "class_id"});
  const bool voc = has("xmin");
  std::array<size_t, 4> box_cols;
  for (size_t k = 0; k < 4; ++k)
    box_cols[k] = voc ? require({std::array{"xmin", "ymin", "xmax", "ymax"}[k]})
                      : require({std::array{"x1", "y1", "x2", "y2"}[k]});
  const bool named_classes = names[class_col] == "class";
  const bool has_class_name = !named_classes && has("class_name");

  std::string image_dir = options.image_dir;
  if (image_dir.empty()) {
    const fs::path folder = fs::path(csv_path).parent_path();
    std::error_code ec;
    image_dir = (names[image_col] == "filename" && fs::is_directory(folder / "images", ec) ? folder / "images" : folder)
                    .string();
  }

  DetectionDataset d;
  NameLabels class_labels;
  std::map<int, std::string> id_names;  // class_id -> class_name (class_id columns)
  std::unordered_map<std::string, size_t> sample_of;
  for (size_t ln = 1; ln < lines.size(); ++ln) {
    if (trim(lines[ln]).empty()) continue;
    const auto where = [&] { return csv_path + ":" + std::to_string(ln + 1); };
    const auto f = split_csv_line(lines[ln]);
    if (f.size() != names.size())
      fail(where(), "expected " + std::to_string(names.size()) + " fields, got " + std::to_string(f.size()));
    auto number = [&](size_t col) {
      double v = 0;
      if (!parse_double(f[col], v)) fail(where(), "column " + names[col] + ": '" + f[col] + "' is not a number");
      return v;
    };
    auto positive_int = [&](size_t col) {
      int v = 0;
      if (!parse_int(f[col], v) || v <= 0) fail(where(), "column " + names[col] + ": '" + f[col] + "' must be > 0");
      return v;
    };
    if (f[image_col].empty()) fail(where(), "empty image path");
    const std::string image_path = join(image_dir, f[image_col]);
    const int width = positive_int(width_col), height = positive_int(height_col);
    auto [it, added] = sample_of.emplace(image_path, d.samples.size());
    if (added) {
      require_image(image_path, where());
      d.samples.push_back(DetectionSample{image_path, width, height, {}, {}});
    }
    DetectionSample& s = d.samples[it->second];
    if (s.width != width || s.height != height)
      fail(where(), "image size " + std::to_string(width) + "x" + std::to_string(height) + " differs from " +
                        size_text(s) + " on an earlier row of " + f[image_col]);

    int label = 0;
    if (named_classes) {
      if (f[class_col].empty()) fail(where(), "empty class name");
      label = class_labels.id(f[class_col]);
    } else {
      int id = 0;
      if (!parse_int(f[class_col], id) || id < 0 || id > kMaxClassId)
        fail(where(), "class_id '" + f[class_col] + "' is not an integer in 0.." + std::to_string(kMaxClassId));
      label = id + 1;
      const std::string name = has_class_name ? f[column["class_name"]] : std::to_string(id);
      const auto [known, first] = id_names.emplace(id, name);
      if (!first && known->second != name)
        fail(where(), "class_id " + std::to_string(id) + " is named '" + name + "' here, '" + known->second +
                          "' on an earlier row");
    }
    std::array<float, 4> b;
    for (size_t k = 0; k < 4; ++k) b[k] = static_cast<float>(number(box_cols[k]));
    add_box(s, voc ? from_voc(b, options) : b, label, options, d.stats, where);
  }
  if (named_classes) {
    d.class_names = class_labels.finish(d.samples);
  } else if (!id_names.empty()) {
    for (int id = 0; id <= id_names.rbegin()->first; ++id)
      d.class_names.push_back(id_names.count(id) ? id_names[id] : std::to_string(id));
  }
  return finish(std::move(d), csv_path);
}

}  // namespace zoo
