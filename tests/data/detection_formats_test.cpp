// Detection loaders: COCO JSON, Pascal VOC XML, YOLO labels and box CSVs on small files written
// here (boxes, labels, images without boxes, crowd skipping, each BadBoxPolicy, errors naming the
// file and line), format auto-detection, image decoding errors, and the shared raccoon and
// coco128 sets when present.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <opencv2/imgcodecs.hpp>

#include "data/detection_formats.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;
using Box = std::array<float, 4>;

// Each test's files in a folder of its own, removed after it.
class DetectionFormats : public testing::ScratchDirTest {
 protected:
  // An empty folder NAME in this test's folder.
  fs::path temp_dir(const std::string& name) const {
    const fs::path dir = scratch_.path() / name;
    fs::create_directories(dir);
    return dir;
  }
};

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

void write_image(const fs::path& path, int w, int h) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(cv::imwrite(path.string(), cv::Mat(h, w, CV_8UC3, cv::Scalar(10, 20, 30))));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

DetectionLoadOptions with(BadBoxPolicy policy) {
  DetectionLoadOptions o;
  o.policy = policy;
  return o;
}

// ---- COCO ----

// Image 1 (40x30): a box, a crowd box, a box leaving the image, a zero-width box; image 2
// (20x20): no annotation. Category ids 3 and 7 become labels 1 and 2.
fs::path write_coco(const fs::path& dir) {
  write_image(dir / "train" / "a.jpg", 40, 30);
  write_image(dir / "train" / "b.jpg", 20, 20);
  write_file(dir / "annotations" / "instances_train.json", R"({
    "images": [{"id": 11, "file_name": "a.jpg", "width": 40, "height": 30},
               {"id": 12, "file_name": "b.jpg", "width": 20, "height": 20}],
    "annotations": [
      {"id": 1, "image_id": 11, "category_id": 7, "bbox": [2, 3, 10, 5], "iscrowd": 0},
      {"id": 2, "image_id": 11, "category_id": 3, "bbox": [0, 0, 40, 30], "iscrowd": 1},
      {"id": 3, "image_id": 11, "category_id": 3, "bbox": [30, 20, 20, 20]},
      {"id": 4, "image_id": 11, "category_id": 3, "bbox": [5, 5, 0, 8]}],
    "categories": [{"id": 7, "name": "dog"}, {"id": 3, "name": "cat"}]})");
  return dir / "annotations" / "instances_train.json";
}

TEST_F(DetectionFormats, CocoBoxesLabelsCrowdAndEmptyImage) {
  const auto dir = temp_dir("coco");
  const auto d = load_coco_json(write_coco(dir).string());  // images found in ../train
  ASSERT_EQ(d.samples.size(), 2u);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cat", "dog"}));
  const auto& a = d.samples[0];
  EXPECT_EQ(fs::path(a.image_path).filename(), "a.jpg");
  EXPECT_EQ(a.width, 40);
  EXPECT_EQ(a.height, 30);
  ASSERT_EQ(a.boxes.size(), 2u);  // crowd skipped, zero-width dropped
  EXPECT_EQ(a.boxes[0], (Box{2, 3, 12, 8}));
  EXPECT_EQ(a.labels[0], 2);
  EXPECT_EQ(a.boxes[1], (Box{30, 20, 40, 30}));  // clipped
  EXPECT_EQ(a.labels[1], 1);
  EXPECT_TRUE(d.samples[1].boxes.empty());
  EXPECT_EQ(d.stats.images, 2);
  EXPECT_EQ(d.stats.boxes, 2);
  EXPECT_EQ(d.stats.images_without_boxes, 1);
  EXPECT_EQ(d.stats.crowd_skipped, 1);
  EXPECT_EQ(d.stats.clipped, 1);
  EXPECT_EQ(d.stats.dropped_degenerate, 1);
  EXPECT_NE(d.stats.first_problem.find("annotations[2]"), std::string::npos) << d.stats.first_problem;
  EXPECT_NE(d.stats.summary().find("1 crowd annotations skipped"), std::string::npos) << d.stats.summary();
}

TEST_F(DetectionFormats, CocoPolicies) {
  const auto json = write_coco(temp_dir("coco_policies")).string();
  const auto dropped = load_coco_json(json, with(BadBoxPolicy::drop));
  EXPECT_EQ(dropped.samples[0].boxes, (std::vector<Box>{{2, 3, 12, 8}}));
  EXPECT_EQ(dropped.stats.dropped_outside, 1);
  EXPECT_EQ(dropped.stats.dropped_degenerate, 1);
  EXPECT_EQ(dropped.stats.clipped, 0);
  const std::string e = error_of([&] { load_coco_json(json, with(BadBoxPolicy::reject)); });
  EXPECT_NE(e.find("instances_train.json: annotations[2]: box [30, 20, 50, 40] is outside the 40x30 image"),
            std::string::npos)
      << e;
}

TEST_F(DetectionFormats, CocoErrorsNameTheKey) {
  const auto dir = temp_dir("coco_errors");
  write_image(dir / "a.jpg", 8, 8);
  const std::string head = R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 8, "height": 8}],
                               "categories": [{"id": 1, "name": "x"}], "annotations": [)";
  auto error = [&](const std::string& annotations) {
    write_file(dir / "i.json", head + annotations + "]}");
    return error_of([&] { load_coco_json((dir / "i.json").string()); });
  };
  EXPECT_NE(error(R"({"image_id": 1, "category_id": 1, "bbox": [1, 2, 3]})").find("annotations[0]: \"bbox\" must be"),
            std::string::npos);
  EXPECT_NE(error(R"({"image_id": 1, "category_id": 1})").find("annotations[0]: missing key \"bbox\""),
            std::string::npos);
  EXPECT_NE(error(R"({"image_id": 2, "category_id": 1, "bbox": [1, 2, 3, 4]})").find("image_id not in"),
            std::string::npos);
  EXPECT_NE(error(R"({"image_id": 1, "category_id": 9, "bbox": [1, 2, 3, 4]})").find("category_id not in"),
            std::string::npos);
  EXPECT_NE(error(R"({"image_id": 1, "category_id": 1, "bbox": [1, 2, "3", 4]})").find("annotations[0]"),
            std::string::npos);
  write_file(dir / "bad.json", "{\"images\": [");
  EXPECT_NE(error_of([&] { load_coco_json((dir / "bad.json").string()); }).find("bad.json:1: invalid JSON"),
            std::string::npos);
  write_file(dir / "missing.json", R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 8, "height": 8},
      {"id": 2, "file_name": "gone.jpg", "width": 8, "height": 8}], "categories": [], "annotations": []})");
  const std::string e = error_of([&] { load_coco_json((dir / "missing.json").string()); });
  EXPECT_NE(e.find("images[1]: image " + (dir / "gone.jpg").string() + " does not exist"), std::string::npos) << e;
}

// ---- Pascal VOC ----

std::string voc_xml(const std::string& file, int w, int h, const std::string& objects) {
  return "<annotation><folder>images</folder><filename>" + file + "</filename><size><width>" + std::to_string(w) +
         "</width><height>" + std::to_string(h) + "</height><depth>3</depth></size>" + objects + "</annotation>";
}
std::string voc_object(const std::string& name, const std::string& xmin, int ymin, int xmax, int ymax) {
  return "<object><name>" + name + "</name><difficult>0</difficult><bndbox><xmin>" + xmin + "</xmin><ymin>" +
         std::to_string(ymin) + "</ymin><xmax>" + std::to_string(xmax) + "</xmax><ymax>" + std::to_string(ymax) +
         "</ymax></bndbox></object>";
}

TEST_F(DetectionFormats, VocOneBasedBoxesSortedLabelsAndPolicies) {
  const auto dir = temp_dir("voc");
  write_image(dir / "images" / "p.jpg", 50, 40);
  write_image(dir / "images" / "q.jpg", 30, 30);
  write_file(dir / "annotations" / "p.xml",
             voc_xml("p.jpg", 50, 40,
                     voc_object("dog", "1", 1, 50, 40) + voc_object("cat", "10", 5, 20, 15) +
                         voc_object("cat", "40", 30, 70, 40) + voc_object("dog", "9", 5, 7, 20)));
  write_file(dir / "annotations" / "q.xml", voc_xml("q.jpg", 30, 30, ""));
  const auto d = load_voc_dir((dir / "annotations").string());  // images found in ../images
  ASSERT_EQ(d.samples.size(), 2u);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cat", "dog"}));
  const auto& p = d.samples[0];
  EXPECT_EQ(p.image_path, (dir / "images" / "p.jpg").string());
  EXPECT_EQ(p.boxes, (std::vector<Box>{{0, 0, 50, 40}, {9, 4, 20, 15}, {39, 29, 50, 40}}));
  EXPECT_EQ(p.labels, (std::vector<int>{2, 1, 1}));
  EXPECT_TRUE(d.samples[1].boxes.empty());
  EXPECT_EQ(d.stats.clipped, 1);
  EXPECT_EQ(d.stats.dropped_degenerate, 1);  // xmax < xmin
  EXPECT_EQ(d.stats.images_without_boxes, 1);

  DetectionLoadOptions as_is = with(BadBoxPolicy::drop);
  as_is.voc_one_based = false;
  const auto raw = load_voc_dir((dir / "annotations").string(), as_is);
  EXPECT_EQ(raw.samples[0].boxes, (std::vector<Box>{{1, 1, 50, 40}, {10, 5, 20, 15}}));
  EXPECT_EQ(raw.stats.dropped_outside, 1);
  EXPECT_EQ(raw.stats.dropped_degenerate, 1);

  const std::string e = error_of([&] { load_voc_dir((dir / "annotations").string(), with(BadBoxPolicy::reject)); });
  EXPECT_NE(e.find("p.xml:1: <object> 2/<bndbox>: box [39, 29, 70, 40] is outside the 50x40 image"),
            std::string::npos)
      << e;
}

TEST_F(DetectionFormats, VocErrorsNameFileLineAndElement) {
  const auto dir = temp_dir("voc_errors");
  write_image(dir / "images" / "p.jpg", 50, 40);
  auto error = [&](const std::string& xml) {
    fs::remove_all(dir / "xml");
    write_file(dir / "xml" / "p.xml", xml);
    return error_of([&] { load_voc_dir((dir / "xml").string()); });
  };
  std::string e = error("<annotation>\n<filename>p.jpg</filename>\n<size><width>50</width><height>40</height></size>\n"
                        "<object><name>a</name>\n<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax></bndbox>"
                        "</object></annotation>");
  EXPECT_NE(e.find("p.xml:5: <object> 0/<bndbox>: missing <ymax>"), std::string::npos) << e;
  e = error(voc_xml("p.jpg", 50, 40, voc_object("a", "1x", 1, 9, 9)));
  EXPECT_NE(e.find("<object> 0/<bndbox>/<xmin>: '1x' is not a number"), std::string::npos) << e;
  e = error("<annotation><filename>p.jpg</filename><size><width>50</width></annotation");
  EXPECT_NE(e.find("p.xml:1: invalid XML"), std::string::npos) << e;
  e = error("<annotation><filename>p.jpg</filename></annotation>");
  EXPECT_NE(e.find("missing <size>"), std::string::npos) << e;
  e = error(voc_xml("gone.jpg", 50, 40, ""));
  EXPECT_NE(e.find("p.xml: image " + (dir / "images" / "gone.jpg").string() + " does not exist"), std::string::npos)
      << e;
}

// ---- YOLO ----

// images/train: a.jpg 40x20 with labels, b.jpg without a label file, c.png with an empty one;
// labels/train/orphan.txt has no image.
fs::path write_yolo(const fs::path& dir, const std::string& a_labels) {
  write_image(dir / "images" / "train" / "a.jpg", 40, 20);
  write_image(dir / "images" / "train" / "b.jpg", 16, 16);
  write_image(dir / "images" / "train" / "c.png", 16, 8);
  write_file(dir / "labels" / "train" / "a.txt", a_labels);
  write_file(dir / "labels" / "train" / "c.txt", "");
  write_file(dir / "labels" / "train" / "orphan.txt", "0 0.5 0.5 0.1 0.1\n");
  return dir;
}

TEST_F(DetectionFormats, YoloNormalisedBoxesEmptyImagesAndOrphans) {
  const auto dir = write_yolo(temp_dir("yolo"),
                              "0 0.5 0.5 0.5 0.5\n"
                              "\n"
                              "2 0.1 0.1 0.4 0.4\n"
                              "1 0.5 0.5 0 0.1\n");
  for (const auto& path : {dir, dir / "images" / "train"}) {  // root with one split, or the split itself
    const auto d = load_yolo_dir(path.string());
    ASSERT_EQ(d.samples.size(), 3u) << path;
    EXPECT_EQ(d.samples[0].width, 40);
    EXPECT_EQ(d.samples[0].height, 20);
    EXPECT_EQ(d.samples[0].boxes, (std::vector<Box>{{10, 5, 30, 15}, {0, 0, 12, 6}}));
    EXPECT_EQ(d.samples[0].labels, (std::vector<int>{1, 3}));
    EXPECT_TRUE(d.samples[1].boxes.empty());
    EXPECT_TRUE(d.samples[2].boxes.empty());
    EXPECT_EQ(fs::path(d.samples[2].image_path).filename(), "c.png");
    EXPECT_EQ(d.class_names, (std::vector<std::string>{"0", "1", "2"}));
    EXPECT_EQ(d.stats.images_without_boxes, 2);
    EXPECT_EQ(d.stats.orphan_labels, 1);
    EXPECT_EQ(d.stats.clipped, 1);
    EXPECT_EQ(d.stats.dropped_degenerate, 1);
    EXPECT_NE(d.stats.first_problem.find("a.txt:3"), std::string::npos) << d.stats.first_problem;
  }
  const auto dropped = load_yolo_dir(dir.string(), with(BadBoxPolicy::drop));
  EXPECT_EQ(dropped.samples[0].boxes, (std::vector<Box>{{10, 5, 30, 15}}));
  EXPECT_EQ(dropped.stats.dropped_outside, 1);
  const std::string e = error_of([&] { load_yolo_dir(dir.string(), with(BadBoxPolicy::reject)); });
  EXPECT_NE(e.find("a.txt:3: box [-4, -2, 12, 6] is outside the 40x20 image"), std::string::npos) << e;
}

TEST_F(DetectionFormats, YoloToleratesRoundingAtTheEdge) {
  // cx + w/2 = 1 + 1e-7: a rounding error, not an out-of-image box, even under reject.
  const auto dir = write_yolo(temp_dir("yolo_edge"), "0 0.7500001 0.5 0.5 1.0\n");
  const auto d = load_yolo_dir(dir.string(), with(BadBoxPolicy::reject));
  ASSERT_EQ(d.samples[0].boxes.size(), 1u);
  EXPECT_FLOAT_EQ(d.samples[0].boxes[0][2], 40);
  EXPECT_EQ(d.stats.clipped, 1);
}

TEST_F(DetectionFormats, YoloErrors) {
  auto error = [this](const std::string& name, const std::string& labels) {
    const auto dir = write_yolo(temp_dir(name), labels);
    return error_of([&] { load_yolo_dir(dir.string()); });
  };
  EXPECT_NE(error("yolo_fields", "0 0.5 0.5 0.1 0.1\n0 0.5 0.5 0.1\n").find("a.txt:2: expected 5 fields"),
            std::string::npos);
  EXPECT_NE(error("yolo_class", "x 0.5 0.5 0.1 0.1\n").find("a.txt:1: class 'x' is not an integer"),
            std::string::npos);
  EXPECT_NE(error("yolo_number", "0 0.5 nan 0.1 0.1\n").find("a.txt:1: 'nan' is not a number"), std::string::npos);
  const auto dir = write_yolo(temp_dir("yolo_splits"), "");
  write_image(dir / "images" / "val" / "v.jpg", 8, 8);
  EXPECT_NE(error_of([&] { load_yolo_dir(dir.string()); }).find("holds 2 split folders (train, val)"),
            std::string::npos);
  write_file(dir / "images" / "train" / "d.jpg", "not a jpeg");
  EXPECT_NE(error_of([&] { load_yolo_dir((dir / "images" / "train").string()); }).find("d.jpg: cannot decode image"),
            std::string::npos);
}

// Found by review, confirmed by the YOLO fuzz target's UBSan: class 2147483647 overflowed `class + 1`, and
// class names are made for ids 0..max, so a class of 2000000000 asked for two billion strings.
TEST_F(DetectionFormats, YoloClassIdsAreBounded) {
  auto error = [this](const std::string& name, const std::string& labels) {
    const auto dir = write_yolo(temp_dir(name), labels);
    return error_of([&] { load_yolo_dir(dir.string()); });
  };
  EXPECT_NE(error("yolo_max_int", "2147483647 0.5 0.5 0.1 0.1\n").find("a.txt:1: class '2147483647' is not an integer in 0..99999"),
            std::string::npos);
  EXPECT_NE(error("yolo_big", "0 0.5 0.5 0.1 0.1\n100000 0.5 0.5 0.1 0.1\n").find("a.txt:2: class '100000'"),
            std::string::npos);
  const auto d = load_yolo_dir(write_yolo(temp_dir("yolo_max"), "99999 0.5 0.5 0.1 0.1\n").string());
  EXPECT_EQ(d.class_names.size(), 100000u);
  EXPECT_EQ(d.samples[0].labels, std::vector<int>{100000});
}

// A <width> of 1e20 was converted to int (undefined behaviour; found by review, confirmed by the
// VOC fuzz target's UBSan), and element text with a line break made a two-line message (fuzzing).
TEST_F(DetectionFormats, VocSizesBeyondIntAndLineBreaksInTextAreOneLineErrors) {
  const auto dir = temp_dir("voc_fuzz");
  write_image(dir / "images" / "p.jpg", 50, 40);
  auto error = [&](const std::string& xml) {
    fs::remove_all(dir / "xml");
    write_file(dir / "xml" / "p.xml", xml);
    return error_of([&] { load_voc_dir((dir / "xml").string()); });
  };
  std::string e = error("<annotation><filename>p.jpg</filename><size><width>1e20</width><height>40</height></size>"
                        "</annotation>");
  EXPECT_NE(e.find("p.xml:1: <size>/<width>: must be a positive integer below 2^31"), std::string::npos) << e;
  e = error(voc_xml("p.jpg", 50, 40, voc_object("a", "1\n2", 1, 9, 9)));
  EXPECT_NE(e.find("<object> 0/<bndbox>/<xmin>: '1\\n2' is not a number"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

// COCO sizes are int64 in JSON: 4294967297 used to become a width of 1 (int truncation).
TEST_F(DetectionFormats, CocoSizesBeyondIntAreErrors) {
  const auto dir = temp_dir("coco_size");
  write_image(dir / "a.jpg", 8, 8);
  write_file(dir / "i.json", R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 4294967297, "height": 8}],
                                 "categories": [], "annotations": []})");
  const std::string e = error_of([&] { load_coco_json((dir / "i.json").string()); });
  EXPECT_NE(e.find("i.json: images[0]: width and height must be positive integers below 2^31"), std::string::npos) << e;
}

// Found by review, confirmed by the CSV fuzz target's UBSan: class_id 2147483647 overflowed id + 1 and
// the loop making names for ids 0..max never ended.
TEST_F(DetectionFormats, CsvClassIdsAreBounded) {
  const auto dir = temp_dir("csv_class_id");
  write_image(dir / "a.jpg", 20, 20);
  write_file(dir / "b.csv", "image,width,height,class_id,x1,y1,x2,y2\na.jpg,20,20,2147483647,1,2,10,12\n");
  const std::string e = error_of([&] { load_detection_csv((dir / "b.csv").string()); });
  EXPECT_NE(e.find("b.csv:2: class_id '2147483647' is not an integer in 0..99999"), std::string::npos) << e;
}

// ---- CSV ----

TEST_F(DetectionFormats, CsvRaccoonLayout) {
  const auto dir = temp_dir("csv_raccoon");
  write_image(dir / "images" / "r1.jpg", 60, 40);
  write_image(dir / "images" / "r2.jpg", 30, 30);
  write_file(dir / "labels.csv",
             "filename,width,height,class,xmin,ymin,xmax,ymax\r\n"
             "r1.jpg,60,40,raccoon,1,1,60,40\r\n"
             "r2.jpg,30,30,zebra,5,6,10,12\r\n"
             "\r\n"
             "r1.jpg,60,40,dog,10,10,70,20\r\n");
  const auto d = load_detection_csv((dir / "labels.csv").string());  // relative to images/
  ASSERT_EQ(d.samples.size(), 2u);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"dog", "raccoon", "zebra"}));
  EXPECT_EQ(d.samples[0].image_path, (dir / "images" / "r1.jpg").string());
  EXPECT_EQ(d.samples[0].boxes, (std::vector<Box>{{0, 0, 60, 40}, {9, 9, 60, 20}}));
  EXPECT_EQ(d.samples[0].labels, (std::vector<int>{2, 1}));
  EXPECT_EQ(d.samples[1].boxes, (std::vector<Box>{{4, 5, 10, 12}}));
  EXPECT_EQ(d.samples[1].labels, (std::vector<int>{3}));
  EXPECT_EQ(d.stats.clipped, 1);
  const std::string e = error_of([&] { load_detection_csv((dir / "labels.csv").string(), with(BadBoxPolicy::reject)); });
  EXPECT_NE(e.find("labels.csv:5: box [9, 9, 70, 20] is outside the 60x40 image"), std::string::npos) << e;
}

TEST_F(DetectionFormats, CsvCoco128Layout) {
  const auto dir = temp_dir("csv_coco128");
  write_image(dir / "images" / "s" / "a.jpg", 64, 48);
  write_file(dir / "boxes.csv",
             "image,width,height,class_id,class_name,x1,y1,x2,y2\n"
             "images/s/a.jpg,64,48,2,car,1.5,2.25,10.75,20\n"
             "images/s/a.jpg,64,48,0,person,0,0,64,48\n");
  const auto d = load_detection_csv((dir / "boxes.csv").string());
  ASSERT_EQ(d.samples.size(), 1u);
  EXPECT_EQ(d.samples[0].image_path, (dir / "images" / "s" / "a.jpg").string());
  EXPECT_EQ(d.samples[0].boxes, (std::vector<Box>{{1.5f, 2.25f, 10.75f, 20}, {0, 0, 64, 48}}));
  EXPECT_EQ(d.samples[0].labels, (std::vector<int>{3, 1}));
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"person", "1", "car"}));
  EXPECT_EQ(d.stats.clipped, 0);
}

TEST_F(DetectionFormats, CsvErrorsNameFileAndLine) {
  const auto dir = temp_dir("csv_errors");
  write_image(dir / "a.jpg", 20, 20);
  const std::string header = "image,width,height,class_id,x1,y1,x2,y2\n";
  auto error = [&](const std::string& text) {
    write_file(dir / "b.csv", text);
    return error_of([&] { load_detection_csv((dir / "b.csv").string()); });
  };
  EXPECT_NE(error(header + "a.jpg,20,20,0,1,1,5,5\na.jpg,20,20,0,1,1,5\n").find("b.csv:3: expected 8 fields, got 7"),
            std::string::npos);
  EXPECT_NE(error(header + "a.jpg,20,20,0,1,1,five,5\n").find("b.csv:2: column x2: 'five' is not a number"),
            std::string::npos);
  EXPECT_NE(error(header + "a.jpg,20,20,0,1,1,5,5\na.jpg,20,21,0,1,1,5,5\n").find("b.csv:3: image size 20x21 differs"),
            std::string::npos);
  EXPECT_NE(error(header + "a.jpg,20,20,-1,1,1,5,5\n").find("b.csv:2: class_id '-1'"), std::string::npos);
  EXPECT_NE(error("image,width,height,class_id,x1,y1,x2\n").find("b.csv:1: missing column y2"), std::string::npos);
  EXPECT_NE(error(header).find("b.csv: no images"), std::string::npos);
  const std::string e = error(header + "gone.jpg,20,20,0,1,1,5,5\n");
  EXPECT_NE(e.find("b.csv:2: image " + (dir / "gone.jpg").string() + " does not exist"), std::string::npos) << e;
}

// ---- dispatch and decoding ----

TEST_F(DetectionFormats, AutoDetectsTheFormat) {
  const auto dir = temp_dir("auto");
  const auto coco = write_coco(dir / "coco");
  EXPECT_EQ(load_detection_dataset(coco.string()).class_names, (std::vector<std::string>{"cat", "dog"}));
  const auto yolo = write_yolo(dir / "yolo", "0 0.5 0.5 0.5 0.5\n");
  EXPECT_EQ(load_detection_dataset(yolo.string()).stats.orphan_labels, 1);
  EXPECT_EQ(load_detection_dataset((yolo / "images" / "train").string()).samples.size(), 3u);
  write_image(dir / "voc" / "images" / "p.jpg", 20, 20);
  write_file(dir / "voc" / "annotations" / "p.xml", voc_xml("p.jpg", 20, 20, voc_object("a", "2", 2, 9, 9)));
  for (const auto& path : {dir / "voc", dir / "voc" / "annotations"})
    EXPECT_EQ(load_detection_dataset(path.string()).samples[0].boxes, (std::vector<Box>{{1, 1, 9, 9}})) << path;
  write_file(dir / "voc" / "labels.csv", "filename,width,height,class,xmin,ymin,xmax,ymax\np.jpg,20,20,a,2,2,9,9\n");
  EXPECT_EQ(load_detection_dataset((dir / "voc" / "labels.csv").string()).samples[0].boxes,
            (std::vector<Box>{{1, 1, 9, 9}}));
  EXPECT_EQ(load_detection_dataset((dir / "voc" / "labels.csv").string(), "csv").stats.boxes, 1);
  EXPECT_NE(error_of([&] { load_detection_dataset((dir / "voc" / "images").string()); })
                .find("unknown detection data format"),
            std::string::npos);
  EXPECT_THROW(load_detection_dataset(coco.string(), "pascal"), std::invalid_argument);
}

TEST_F(DetectionFormats, ImageDecodingErrorsNameThePath) {
  const auto dir = temp_dir("decode");
  DetectionSample s{(dir / "missing.jpg").string(), 8, 8, {}, {}};
  EXPECT_NE(error_of([&] { load_detection_image(s); }).find("missing.jpg: cannot decode image"), std::string::npos);
  write_file(dir / "corrupt.jpg", "\xFF\xD8\xFF garbage");
  s.image_path = (dir / "corrupt.jpg").string();
  EXPECT_NE(error_of([&] { load_detection_image(s); }).find("corrupt.jpg: cannot decode image"), std::string::npos);
  write_image(dir / "ok.png", 8, 6);
  s.image_path = (dir / "ok.png").string();
  EXPECT_NE(error_of([&] { load_detection_image(s); }).find("decoded 8x6 but the labels are for 8x8"),
            std::string::npos);
  s.height = 6;
  const cv::Mat image = load_detection_image(s);
  EXPECT_EQ(image.type(), CV_8UC3);
  EXPECT_EQ(image.size(), cv::Size(8, 6));
}

// ---- the shared data sets ----

std::string shared_data(const std::string& relative) { return std::string(ZOO_SOURCE_DIR) + "/../shared/data/" + relative; }

TEST_F(DetectionFormats, RealRaccoonCsvAndVocAgree) {
  if (!fs::exists(shared_data("raccoon/train_labels.csv"))) GTEST_SKIP() << "no " << shared_data("raccoon");
  const auto csv = load_detection_csv(shared_data("raccoon/train_labels.csv"), with(BadBoxPolicy::reject));
  const auto voc = load_voc_dir(shared_data("raccoon/annotations"), with(BadBoxPolicy::reject));
  std::cout << "raccoon CSV: " << csv.stats.summary() << "\nraccoon VOC: " << voc.stats.summary() << "\n";
  EXPECT_EQ(csv.stats.images, 160);
  EXPECT_EQ(csv.stats.boxes, 173);
  EXPECT_EQ(voc.stats.images, 160);
  EXPECT_EQ(voc.stats.boxes, 173);
  EXPECT_EQ(csv.class_names, (std::vector<std::string>{"raccoon"}));
  EXPECT_EQ(voc.class_names, csv.class_names);
  std::map<std::string, const DetectionSample*> by_path;
  for (const auto& s : voc.samples) by_path[fs::path(s.image_path).lexically_normal().string()] = &s;
  for (const auto& s : csv.samples) {
    const auto it = by_path.find(fs::path(s.image_path).lexically_normal().string());
    ASSERT_NE(it, by_path.end()) << s.image_path;
    EXPECT_EQ(it->second->width, s.width);
    EXPECT_EQ(it->second->height, s.height);
    auto sorted = [](std::vector<Box> b) {
      std::sort(b.begin(), b.end());
      return b;
    };
    EXPECT_EQ(sorted(it->second->boxes), sorted(s.boxes)) << s.image_path;
  }
  // The first image's real size matches its labels (load_detection_image checks it).
  EXPECT_EQ(load_detection_image(csv.samples[0]).cols, csv.samples[0].width);
}

TEST_F(DetectionFormats, RealCoco128YoloMatchesItsCsv) {
  if (!fs::exists(shared_data("coco128/labels"))) GTEST_SKIP() << "no " << shared_data("coco128");
  const auto yolo = load_detection_dataset(shared_data("coco128"));
  const auto csv = load_detection_csv(shared_data("coco128/boxes_train2017.csv"));
  std::cout << "coco128 YOLO: " << yolo.stats.summary() << "\ncoco128 CSV: " << csv.stats.summary() << "\n";
  EXPECT_EQ(yolo.stats.images, 128);
  EXPECT_EQ(yolo.stats.boxes, 929);
  EXPECT_EQ(yolo.stats.images_without_boxes, 2);  // 000000000250 and 000000000508
  EXPECT_EQ(yolo.stats.orphan_labels, 2);         // 000000000656 and 000000000659
  EXPECT_EQ(yolo.stats.dropped_outside + yolo.stats.dropped_degenerate, 0);
  EXPECT_EQ(yolo.stats.clipped, 42);  // all by rounding: each within edge_tolerance of the image
  EXPECT_EQ(csv.stats.images, 126);
  EXPECT_EQ(csv.stats.boxes, 929);
  std::map<std::string, const DetectionSample*> by_path;
  for (const auto& s : yolo.samples) by_path[fs::path(s.image_path).lexically_normal().string()] = &s;
  for (const auto& s : csv.samples) {
    const auto it = by_path.find(fs::path(s.image_path).lexically_normal().string());
    ASSERT_NE(it, by_path.end()) << s.image_path;
    EXPECT_EQ(it->second->width, s.width) << s.image_path;
    EXPECT_EQ(it->second->height, s.height) << s.image_path;
    ASSERT_EQ(it->second->boxes.size(), s.boxes.size()) << s.image_path;
    EXPECT_EQ(it->second->labels, s.labels) << s.image_path;
    for (size_t k = 0; k < s.boxes.size(); ++k)
      for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(it->second->boxes[k][j], s.boxes[k][j], 0.006) << s.image_path;
  }
}

}  // namespace
}  // namespace zoo
