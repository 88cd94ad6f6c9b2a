#pragma once
// Object-detection data sets on disk -> DetectionSamples (labels only; pixels are decoded by
// load_detection_image one image at a time). Four layouts: COCO JSON, Pascal VOC XML, YOLO text
// labels, and CSV with one row per box (the raccoon set's and coco128's boxes_*.csv).
//
// Strict about files, explicit about boxes:
//   * a malformed file, line, element or key is a std::runtime_error naming where it is
//     ("PATH:LINE: ...", "PATH:LINE: <object>/<bndbox>/<xmin>: ...", "PATH: annotations[12]: ...");
//     so is an image that a label file names but that does not exist;
//   * a box that is out of the image or degenerate is never returned as it is: the
//     BadBoxPolicy clips, drops or rejects it, and every clipped or dropped box is counted in the
//     returned stats, which the caller prints once (summary()).
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "data/detection_sample.h"

namespace zoo {

// What happens to a box that leaves the image by more than edge_tolerance (out of image) or is
// narrower or lower than min_size once inside it (degenerate, including x2 <= x1):
//   clip    out-of-image boxes are clipped to the image; boxes degenerate after clipping are dropped
//   drop    out-of-image and degenerate boxes are dropped
//   reject  either is a std::runtime_error naming the file and the box
// Clipped and dropped boxes are counted in DetectionLoadStats; an image whose boxes are all
// dropped stays in the data set as an image without objects.
enum class BadBoxPolicy { clip, drop, reject };

struct DetectionLoadOptions {
  BadBoxPolicy policy = BadBoxPolicy::clip;
  float min_size = 1.0f;  // pixels: a box thinner than one pixel has no pixel to learn it from
  // More boxes than this in one image is an error naming the image: the matcher's IoU matrix is
  // anchors x boxes (20k anchors x 1M boxes would be 80 GB). COCO's most crowded image has 93.
  int64_t max_boxes_per_image = 1000;
  // A box may leave the image by this many pixels and still count as inside (it is clamped and
  // counted as clipped under every policy): YOLO's normalised centres and sizes put edges at
  // -5e-7 or 1 + 1e-7 of the image (coco128 has 42 such), which is rounding, not a bad box.
  float edge_tolerance = 1.0f;
  // Pascal VOC pixel indices are 1-based (xmin = 1 is the first column, xmax = W the last):
  // true converts them to the convention of detection_sample.h as x1 = xmin - 1, y1 = ymin - 1,
  // x2 = xmax, y2 = ymax (what Detectron2 does). Applies to VOC XML and to CSV columns named
  // xmin..ymax (the raccoon CSV holds its XML's numbers); false takes the numbers as they are.
  bool voc_one_based = true;
  // Folder of the images; "" finds it from the annotation path as each loader says.
  std::string image_dir;
};

// Counts for the log; the loaders print nothing themselves.
struct DetectionLoadStats {
  int64_t images = 0;                // samples returned
  int64_t boxes = 0;                 // boxes returned
  int64_t images_without_boxes = 0;  // of the samples returned
  int64_t crowd_skipped = 0;         // COCO iscrowd = 1 annotations (a group, not one object)
  int64_t clipped = 0;               // boxes changed by clipping (and kept)
  int64_t dropped_outside = 0;       // out-of-image boxes dropped (policy drop)
  int64_t dropped_degenerate = 0;    // degenerate boxes dropped (policies clip and drop)
  int64_t orphan_labels = 0;         // YOLO label files without an image (ignored)
  std::string first_problem;         // where the first clipped or dropped box is, and why
  std::string summary() const;       // one line: "160 images, 173 boxes, ..."
};

struct DetectionDataset {
  std::vector<DetectionSample> samples;
  std::vector<std::string> class_names;  // class_names[k - 1] names label k
  DetectionLoadStats stats;
};

// COCO instances JSON (instances_<split>.json): "images" (id, file_name, width, height),
// "annotations" (image_id, bbox [x, y, w, h] in pixels, category_id, optional iscrowd),
// "categories" (id, name). Box = (x, y, x + w, y + h). Crowd annotations are skipped and counted.
// Labels are the categories in id order, 1..K (COCO's 80 ids 1..90 become 1..80); images keep
// the JSON's order, including those without annotations. Images are in options.image_dir, else
// in the first of <json folder>, <json folder>/../<split>, <json folder>/../images/<split> that
// holds the first image.
DetectionDataset load_coco_json(const std::string& json_path, const DetectionLoadOptions& options = {});

// A folder of Pascal VOC XML files (<filename>, <size>/<width>,<height>, <object>/<name>,
// <bndbox>/<xmin>,<ymin>,<xmax>,<ymax>), in file-name order; a file without <object> is an image
// without objects. Every *.xml in the folder is read (VOC's ImageSets split lists are not).
// "difficult" objects are kept. Labels: the distinct names, sorted, 1..K. Images are in
// options.image_dir, else in the first folder that exists of <xml folder>/../JPEGImages,
// <xml folder>/../images, <xml folder>.
DetectionDataset load_voc_dir(const std::string& xml_dir, const DetectionLoadOptions& options = {});

// YOLO labels as in coco128 / Ultralytics: `path` is a folder of images (*.jpg, *.jpeg, *.png,
// *.bmp) whose labels are in the folder named by replacing the path's last "images" component
// with "labels" (coco128/images/train2017 -> coco128/labels/train2017), or a root holding
// images/ (with the images, or exactly one split folder of them). Each label file <stem>.txt has
// lines "class cx cy w h" (class id 0.., the rest normalised to the image size). An image without
// a label file, or with an empty one, has no objects; label files without an image are ignored
// and counted. Image sizes come from decoding every image once, on OpenCV's thread pool (OpenCV
// has no header-only reader). Labels: class id + 1; class_names are the ids ("0", "1", ...) as YOLO keeps names in
// a YAML file that is not read here.
DetectionDataset load_yolo_dir(const std::string& path, const DetectionLoadOptions& options = {});

// CSV, one row per box, header REQUIRED, columns found by name in any order:
//   image path   `filename` (relative to <csv folder>/images/ when that folder exists, as in the
//                raccoon set) or `image` (relative to the CSV's folder, as in coco128); either
//                relative to options.image_dir when that is set; absolute paths as they are
//   size         `width`, `height` of the image (the same on every row of an image)
//   class        `class` (a name; labels = the distinct names sorted, 1..K) or `class_id` (an
//                integer >= 0; label = id + 1; names from an optional `class_name` column)
//   box          `xmin,ymin,xmax,ymax` (VOC pixel indices, see voc_one_based) or `x1,y1,x2,y2`
//                (taken as they are)
// Images keep the order of their first row. Blank lines are skipped, CRLF is accepted; fields
// are not quoted (a path must not contain ',').
DetectionDataset load_detection_csv(const std::string& csv_path, const DetectionLoadOptions& options = {});

// format "coco", "voc", "yolo", "csv" or "auto", which picks by the path: *.json -> COCO, *.csv
// -> CSV, a folder with *.xml files, or with annotations/ or Annotations/ holding them -> VOC, a
// folder with images/ and labels/, or named images with a labels twin -> YOLO. Anything else is a
// std::runtime_error.
DetectionDataset load_detection_dataset(const std::string& path, const std::string& format = "auto",
                                        const DetectionLoadOptions& options = {});

// Decodes the sample's image as BGR uint8 (grey images are expanded to 3 channels, EXIF
// orientation is applied; load_yolo_dir measures sizes with this same decoding). A missing or undecodable file throws
// std::runtime_error("PATH: cannot decode image"); a size other than the sample's width x height
// throws too (its boxes would be wrong).
cv::Mat load_detection_image(const DetectionSample& sample);

}  // namespace zoo
