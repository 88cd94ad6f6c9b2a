// COCO instances JSON (load_coco_json, data/detection_formats.h).
#include "data/detection_load_util.h"

#include <fstream>

#include <nlohmann/json.hpp>

namespace zoo {

using namespace detection_load;

namespace {

using nlohmann::json;

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

DetectionDataset load_coco_json(const std::string& json_path, const DetectionLoadOptions& options) {
  json doc = read_json_data_file(json_path);

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

}  // namespace zoo
