// Pascal VOC XML folders (load_voc_dir, data/detection_formats.h).
#include "data/detection_load_util.h"

#include <tinyxml2.h>

namespace zoo {

using namespace detection_load;

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

}  // namespace zoo
