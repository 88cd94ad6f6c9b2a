#include "data/detection_formats.h"
#include "io/error.h"

#include <tinyxml2.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "data/image_file.h"

namespace zoo {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw UserError(where + ": " + what);
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Strict: the whole of `s` must be the number ("12abc", "" and "nan" are not).
bool parse_double(const std::string& s, double& v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size() && std::isfinite(v);
}
bool parse_int(const std::string& s, int& v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// Largest class id a YOLO label or a CSV class_id may have: class names are made for ids 0..max,
// so a corrupt id of 2000000000 would otherwise ask for two billion of them (and id + 1 overflow).
constexpr int kMaxClassId = 99999;
// Largest image width or height a label file may give: sizes are ints.
constexpr double kMaxImageSide = std::numeric_limits<int>::max();

std::string box_text(const std::array<float, 4>& b) {
  char text[96];
  std::snprintf(text, sizeof text, "box [%g, %g, %g, %g]", b[0], b[1], b[2], b[3]);
  return text;
}

std::string size_text(const DetectionSample& s) { return std::to_string(s.width) + "x" + std::to_string(s.height); }

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
std::array<float, 4> from_voc(const std::array<float, 4>& b, const DetectionLoadOptions& options) {
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
DetectionDataset finish(DetectionDataset d, const std::string& path) {
  if (d.samples.empty()) fail(path, "no images");
  d.stats.images = static_cast<int64_t>(d.samples.size());
  for (const auto& s : d.samples) {
    d.stats.boxes += static_cast<int64_t>(s.boxes.size());
    if (s.boxes.empty()) ++d.stats.images_without_boxes;
  }
  return d;
}

void require_image(const std::string& image_path, const std::string& where) {
  std::error_code ec;
  if (!fs::is_regular_file(image_path, ec)) fail(where, "image " + image_path + " does not exist");
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (lines.empty() && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string join(const std::string& folder, const std::string& file) {
  return fs::path(file).is_absolute() ? file : (fs::path(folder) / file).string();
}

// ---- COCO ----

const json& key(const json& object, const char* name, const std::string& where) {
  if (!object.is_object()) fail(where, "not an object");
  const auto it = object.find(name);
  if (it == object.end()) fail(where, std::string("missing key \"") + name + "\"");
  return *it;
}

int64_t json_int(const json& object, const char* name, const std::string& where) {
  const json& v = key(object, name, where);
  if (!v.is_number_integer()) fail(where, std::string("\"") + name + "\" is not an integer");
  return v.get<int64_t>();
}

std::string json_string(const json& object, const char* name, const std::string& where) {
  const json& v = key(object, name, where);
  if (!v.is_string()) fail(where, std::string("\"") + name + "\" is not a string");
  return v.get<std::string>();
}

std::string coco_image_dir(const std::string& json_path, const std::string& first_file,
                           const DetectionLoadOptions& options) {
  if (!options.image_dir.empty()) return options.image_dir;
  const fs::path folder = fs::path(json_path).parent_path();
  std::string split = fs::path(json_path).stem().string();
  if (split.rfind("instances_", 0) == 0) split.erase(0, 10);
  std::string tried;
  for (const fs::path& dir : {folder, folder / ".." / split, folder / ".." / "images" / split}) {
    std::error_code ec;
    if (fs::is_regular_file(dir / first_file, ec)) return dir.lexically_normal().string();
    tried += (tried.empty() ? "" : ", ") + dir.string();
  }
  fail(json_path, "image " + first_file + " is in none of " + tried + " (set image_dir)");
}

}  // namespace

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

DetectionDataset load_coco_json(const std::string& json_path, const DetectionLoadOptions& options) {
  json doc;
  {
    std::ifstream in(json_path, std::ios::binary);
    if (!in) fail(json_path, "cannot open");
    try {
      doc = json::parse(in);
    } catch (const json::exception& e) {
      fail(json_path, std::string("invalid JSON: ") + e.what());
    }
  }
  for (const char* array : {"images", "annotations", "categories"})
    if (!key(doc, array, json_path).is_array()) fail(json_path, std::string("\"") + array + "\" is not an array");

  DetectionDataset d;
  std::map<int64_t, int> label_of;  // category id -> label, ids in increasing order
  std::map<int64_t, std::string> category_names;
  for (size_t i = 0; i < doc["categories"].size(); ++i) {
    const std::string where = json_path + ": categories[" + std::to_string(i) + "]";
    const json& c = doc["categories"][i];
    if (!category_names.emplace(json_int(c, "id", where), json_string(c, "name", where)).second)
      fail(where, "duplicate category id");
  }
  for (const auto& [id, name] : category_names) {
    label_of[id] = static_cast<int>(d.class_names.size()) + 1;
    d.class_names.push_back(name);
  }

  const json& images = doc["images"];
  std::unordered_map<int64_t, size_t> sample_of;  // image id -> index in d.samples
  std::string image_dir;
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string where = json_path + ": images[" + std::to_string(i) + "]";
    const json& im = images[i];
    DetectionSample s;
    const std::string file = json_string(im, "file_name", where);
    if (image_dir.empty()) image_dir = coco_image_dir(json_path, file, options);
    s.image_path = join(image_dir, file);
    const int64_t width = json_int(im, "width", where), height = json_int(im, "height", where);
    if (width <= 0 || height <= 0 || width > kMaxImageSide || height > kMaxImageSide)
      fail(where, "width and height must be positive integers below 2^31");
    s.width = static_cast<int>(width);
    s.height = static_cast<int>(height);
    require_image(s.image_path, where);
    if (!sample_of.emplace(json_int(im, "id", where), d.samples.size()).second) fail(where, "duplicate image id");
    d.samples.push_back(std::move(s));
  }

  const json& annotations = doc["annotations"];
  for (size_t i = 0; i < annotations.size(); ++i) {
    const auto where = [&] { return json_path + ": annotations[" + std::to_string(i) + "]"; };
    const json& a = annotations[i];
    const auto image = sample_of.find(json_int(a, "image_id", where()));
    if (image == sample_of.end()) fail(where(), "image_id not in \"images\"");
    const auto label = label_of.find(json_int(a, "category_id", where()));
    if (label == label_of.end()) fail(where(), "category_id not in \"categories\"");
    if (a.contains("iscrowd")) {
      const json& crowd = a["iscrowd"];
      if (!crowd.is_number_integer() || (crowd != 0 && crowd != 1)) fail(where(), "\"iscrowd\" must be 0 or 1");
      if (crowd == 1) {
        ++d.stats.crowd_skipped;
        continue;
      }
    }
    // A copy (four numbers): a reference bound to key(..., where()) trips GCC 14's
    // -Wdangling-reference, which cannot see that the result refers into `a`, not the temporary.
    const json bbox = key(a, "bbox", where());
    if (!bbox.is_array() || bbox.size() != 4) fail(where(), "\"bbox\" must be [x, y, width, height]");
    double xywh[4];
    for (size_t k = 0; k < 4; ++k) {
      if (!bbox[k].is_number()) fail(where(), "\"bbox\" must be [x, y, width, height] numbers");
      xywh[k] = bbox[k].get<double>();
    }
    add_box(d.samples[image->second],
            {static_cast<float>(xywh[0]), static_cast<float>(xywh[1]), static_cast<float>(xywh[0] + xywh[2]),
             static_cast<float>(xywh[1] + xywh[3])},
            label->second, options, d.stats, where);
  }
  return finish(std::move(d), json_path);
}

// ---- Pascal VOC ----

namespace {

using tinyxml2::XMLElement;

// "PATH:LINE: <object>/<bndbox>" style location of an element.
std::string xml_where(const std::string& path, const XMLElement* e, const std::string& element) {
  return path + ":" + std::to_string(e->GetLineNum()) + ": " + element;
}

const XMLElement* xml_child(const XMLElement* parent, const char* name, const std::string& path,
                            const std::string& parent_name) {
  const XMLElement* e = parent->FirstChildElement(name);
  if (!e) fail(xml_where(path, parent, parent_name), std::string("missing <") + name + ">");
  return e;
}

std::string xml_text(const XMLElement* parent, const char* name, const std::string& path,
                     const std::string& parent_name) {
  const XMLElement* e = xml_child(parent, name, path, parent_name);
  const std::string text = trim(e->GetText() ? e->GetText() : "");
  if (text.empty()) fail(xml_where(path, e, parent_name + "/<" + name + ">"), "empty");
  return text;
}

double xml_number(const XMLElement* parent, const char* name, const std::string& path,
                  const std::string& parent_name) {
  const std::string text = xml_text(parent, name, path, parent_name);
  double v = 0;
  if (!parse_double(text, v))
    fail(xml_where(path, parent->FirstChildElement(name), parent_name + "/<" + name + ">"),
         "'" + text + "' is not a number");
  return v;
}

std::string voc_image_dir(const std::string& xml_dir, const DetectionLoadOptions& options) {
  if (!options.image_dir.empty()) return options.image_dir;
  for (const fs::path& dir : {fs::path(xml_dir) / ".." / "JPEGImages", fs::path(xml_dir) / ".." / "images"}) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return dir.lexically_normal().string();
  }
  return xml_dir;
}

}  // namespace

DetectionDataset load_voc_dir(const std::string& xml_dir, const DetectionLoadOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(xml_dir, ec)) fail(xml_dir, "not a folder");
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(xml_dir))
    if (entry.is_regular_file() && entry.path().extension() == ".xml") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  const std::string image_dir = voc_image_dir(xml_dir, options);

  DetectionDataset d;
  NameLabels names;
  for (const std::string& path : files) {
    tinyxml2::XMLDocument doc;
    if (doc.LoadFile(path.c_str()) != tinyxml2::XML_SUCCESS)
      fail(path + ":" + std::to_string(doc.ErrorLineNum()), std::string("invalid XML: ") + doc.ErrorStr());
    const XMLElement* root = doc.RootElement();
    if (!root || std::string(root->Name()) != "annotation") fail(path, "the root element is not <annotation>");
    DetectionSample s;
    s.image_path = join(image_dir, xml_text(root, "filename", path, "<annotation>"));
    const XMLElement* size = xml_child(root, "size", path, "<annotation>");
    for (auto [name, value] : {std::pair<const char*, int*>{"width", &s.width}, {"height", &s.height}}) {
      const double v = xml_number(size, name, path, "<size>");
      if (v <= 0 || v != std::floor(v) || v > kMaxImageSide)  // converting a larger double to int is UB
        fail(xml_where(path, size, std::string("<size>/<") + name + ">"), "must be a positive integer below 2^31");
      *value = static_cast<int>(v);
    }
    require_image(s.image_path, path);
    int k = 0;
    for (const XMLElement* object = root->FirstChildElement("object"); object;
         object = object->NextSiblingElement("object"), ++k) {
      const std::string object_name = "<object> " + std::to_string(k);
      const int label = names.id(xml_text(object, "name", path, object_name));
      const XMLElement* box = xml_child(object, "bndbox", path, object_name);
      const std::string box_name = object_name + "/<bndbox>";
      const std::array<float, 4> b = {static_cast<float>(xml_number(box, "xmin", path, box_name)),
                                      static_cast<float>(xml_number(box, "ymin", path, box_name)),
                                      static_cast<float>(xml_number(box, "xmax", path, box_name)),
                                      static_cast<float>(xml_number(box, "ymax", path, box_name))};
      add_box(s, from_voc(b, options), label, options, d.stats, [&] { return xml_where(path, box, box_name); });
    }
    d.samples.push_back(std::move(s));
  }
  d.class_names = names.finish(d.samples);
  return finish(std::move(d), xml_dir);
}

// ---- YOLO ----

namespace {

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

std::vector<fs::path> image_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && is_image_file(entry.path())) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// The folder of images `path` stands for (see load_yolo_dir).
fs::path yolo_images_dir(const fs::path& path) {
  if (!fs::is_directory(path / "images")) return path;
  const fs::path images = path / "images";
  if (!image_files(images).empty()) return images;
  std::vector<fs::path> splits;
  for (const auto& entry : fs::directory_iterator(images))
    if (entry.is_directory()) splits.push_back(entry.path());
  if (splits.size() == 1) return splits[0];
  std::sort(splits.begin(), splits.end());
  std::string names;
  for (const auto& s : splits) names += (names.empty() ? "" : ", ") + s.filename().string();
  fail(images.string(), "holds " + std::to_string(splits.size()) + " split folders (" + names +
                            "): pass the one to load, e.g. " + images.string() + "/<split>");
}

// images/ -> labels/ in the last path component named "images", as Ultralytics does.
fs::path yolo_labels_dir(const fs::path& images_dir) {
  std::vector<fs::path> parts(images_dir.begin(), images_dir.end());
  for (size_t i = parts.size(); i-- > 0;)
    if (parts[i] == "images") {
      parts[i] = "labels";
      fs::path out;
      for (const auto& p : parts) out /= p;
      return out;
    }
  fail(images_dir.string(), "not a YOLO images folder: no path component is named \"images\"");
}

// The size of every image, decoded on OpenCV's thread pool (decoding is all the time a YOLO
// data set takes to load). Grey decoding skips the colour conversion but applies the same EXIF
// orientation as load_detection_image, so the sizes agree. The first failure in file order is
// thrown.
std::vector<cv::Size> decoded_sizes(const std::vector<fs::path>& images) {
  std::vector<cv::Size> sizes(images.size());
  std::vector<std::string> errors(images.size());
  cv::parallel_for_(cv::Range(0, static_cast<int>(images.size())), [&](const cv::Range& range) {
    for (int i = range.start; i < range.end; ++i) {
      const auto k = static_cast<size_t>(i);
      try {
        sizes[k] = read_image_file(images[k].string(), cv::IMREAD_GRAYSCALE).size();
      } catch (const std::exception& e) {
        errors[k] = e.what();
      }
    }
  });
  for (const auto& e : errors)
    if (!e.empty()) throw UserError(e);
  return sizes;
}

}  // namespace

DetectionDataset load_yolo_dir(const std::string& path, const DetectionLoadOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) fail(path, "not a folder");
  const fs::path images_dir = yolo_images_dir(fs::path(path).lexically_normal());
  const fs::path labels_dir = yolo_labels_dir(images_dir);
  if (!fs::is_directory(labels_dir, ec)) fail(path, "no labels folder " + labels_dir.string());

  DetectionDataset d;
  int max_class = -1;
  std::map<std::string, bool> label_files;  // stem -> whether an image of that stem exists
  for (const auto& entry : fs::directory_iterator(labels_dir))
    if (entry.is_regular_file() && entry.path().extension() == ".txt") label_files[entry.path().stem().string()] = false;
  const std::vector<fs::path> images = image_files(images_dir);
  const std::vector<cv::Size> sizes = decoded_sizes(images);
  for (size_t i = 0; i < images.size(); ++i) {
    const fs::path& image = images[i];
    DetectionSample s;
    s.image_path = image.string();
    s.width = sizes[i].width;
    s.height = sizes[i].height;
    const fs::path label_path = labels_dir / (image.stem().string() + ".txt");
    const auto label_file = label_files.find(image.stem().string());
    if (label_file != label_files.end()) {
      label_file->second = true;
      const auto lines = read_lines(label_path.string());
      for (size_t ln = 0; ln < lines.size(); ++ln) {
        const auto where = [&] { return label_path.string() + ":" + std::to_string(ln + 1); };
        std::istringstream fields(lines[ln]);
        std::vector<std::string> f;
        for (std::string x; fields >> x;) f.push_back(x);
        if (f.empty()) continue;
        if (f.size() != 5)
          fail(where(), "expected 5 fields 'class cx cy w h', got " + std::to_string(f.size()) +
                            (f.size() > 5 ? " (polygon labels are not supported)" : ""));
        int cls = 0;
        if (!parse_int(f[0], cls) || cls < 0 || cls > kMaxClassId)
          fail(where(), "class '" + f[0] + "' is not an integer in 0.." + std::to_string(kMaxClassId));
        double v[4];
        for (int k = 0; k < 4; ++k)
          if (!parse_double(f[static_cast<size_t>(k) + 1], v[k]))
            fail(where(), "'" + f[static_cast<size_t>(k) + 1] + "' is not a number");
        const double W = s.width, H = s.height;
        add_box(s,
                {static_cast<float>((v[0] - v[2] / 2) * W), static_cast<float>((v[1] - v[3] / 2) * H),
                 static_cast<float>((v[0] + v[2] / 2) * W), static_cast<float>((v[1] + v[3] / 2) * H)},
                cls + 1, options, d.stats, where);
        max_class = std::max(max_class, cls);
      }
    }
    d.samples.push_back(std::move(s));
  }
  for (const auto& [stem, matched] : label_files) d.stats.orphan_labels += matched ? 0 : 1;
  for (int c = 0; c <= max_class; ++c) d.class_names.push_back(std::to_string(c));
  return finish(std::move(d), images_dir.string());
}

// ---- CSV ----

namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    const size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) return fields;
    start = comma + 1;
  }
}

}  // namespace

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

// ---- dispatch and decoding ----

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
