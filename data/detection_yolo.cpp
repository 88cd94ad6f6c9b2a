// YOLO images/labels folders (load_yolo_dir, data/detection_formats.h).
#include "data/detection_load_util.h"

#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/image_file.h"

namespace zoo {

using namespace detection_load;

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

}  // namespace

fs::path detection_load::yolo_labels_dir(const fs::path& images_dir) {
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

namespace {

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

}  // namespace zoo
