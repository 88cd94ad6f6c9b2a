// Hand-keypoint loaders: JSON manifest, FreiHAND layout, CSV, their error messages, image
// decoding errors, and the shared real-world set (Ge et al. 2019) when present.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "data/hand_augment.h"
#include "data/hand_formats.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

// Each test's files in a folder of its own, removed after it.
class HandFormats : public testing::ScratchDirTest {};

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

void write_image(const fs::path& path, int w = 32, int h = 24) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(cv::imwrite(path.string(), cv::Mat(h, w, CV_8UC3, cv::Scalar(10, 20, 30))));
}

// 21 joints in front of the camera, distinct, in units of `unit` per mm.
std::vector<std::array<double, 3>> joints(double unit, double offset = 0) {
  std::vector<std::array<double, 3>> p;
  for (int j = 0; j < kHandJoints; ++j)
    p.push_back({(j * 3.0 - 30 + offset) * unit, (j % 5 * 7.0 - 14) * unit, (400.0 + j) * unit});
  return p;
}

std::string json_points(const std::vector<std::array<double, 3>>& p, size_t count = kHandJoints) {
  std::ostringstream s;
  s.precision(17);
  s << "[";
  for (size_t j = 0; j < count; ++j) s << (j ? "," : "") << "[" << p[j][0] << "," << p[j][1] << "," << p[j][2] << "]";
  return s.str() + "]";
}

const char* kK = "[[500,0,16],[0,510,12],[0,0,1]]";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST_F(HandFormats, ManifestConvertsCentimetresAndResolvesImagePaths) {
  const fs::path& dir = scratch_.path();
  write_image(dir / "images/a.png");
  std::string uv = "[";
  for (int j = 0; j < kHandJoints; ++j) uv += std::string(j ? "," : "") + "[" + std::to_string(j) + ".5, 7.25]";
  uv += "]";
  write_file(dir / "ann.json", std::string("{\"keypoint_names\": [], \"samples\": [") +
                                   "{\"image\": \"images/a.png\", \"K_crop\": " + kK +
                                   ", \"xyz_cm\": " + json_points(joints(0.1)) + ", \"uv_crop\": " + uv + "}," +
                                   "{\"image\": \"images/a.png\", \"K_crop\": " + kK +
                                   ", \"xyz_cm\": " + json_points(joints(0.1, 5)) + "}]}");
  const auto records = load_hand_manifest((dir / "ann.json").string());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].image_path, (dir / "images/a.png").string());
  EXPECT_NEAR(records[0].xyz_mm[3].x, 3 * 3.0 - 30, 1e-9);  // cm -> mm
  EXPECT_NEAR(records[0].xyz_mm[3].z, 403, 1e-9);
  EXPECT_DOUBLE_EQ(records[0].K(1, 1), 510);
  EXPECT_DOUBLE_EQ(records[0].uv[4].x, 4.5);  // given uv_crop kept as is
  EXPECT_DOUBLE_EQ(records[0].uv[4].y, 7.25);
  const auto projected = project_points(records[1].K, records[1].xyz_mm);  // no uv_crop: projected
  for (int j = 0; j < kHandJoints; ++j) EXPECT_NEAR(cv::norm(records[1].uv[j] - projected[j]), 0, 1e-12);
  EXPECT_EQ(records[1].visible, std::vector<float>(kHandJoints, 1.0f));

  const HandSample s = load_hand_image(records[0]);
  EXPECT_EQ(s.image.size(), cv::Size(32, 24));
  EXPECT_EQ(s.image.type(), CV_8UC3);
  EXPECT_EQ(s.source, records[0].image_path);
  EXPECT_EQ(load_hand_records((dir / "ann.json").string()).size(), 2u);
}

TEST_F(HandFormats, MalformedManifestNamesFileAndSample) {
  const fs::path& dir = scratch_.path();
  const std::string good =
      std::string("{\"image\": \"a.png\", \"K_crop\": ") + kK + ", \"xyz_cm\": " + json_points(joints(0.1)) + "}";
  struct Case {
    std::string second, expected;
  };
  const std::vector<Case> cases = {
      {"{\"image\": \"a.png\", \"xyz_cm\": " + json_points(joints(0.1)) + "}", "sample 1: missing key \"K_crop\""},
      {std::string("{\"image\": \"a.png\", \"K_crop\": ") + kK + ", \"xyz_cm\": " + json_points(joints(0.1), 20) + "}",
       "sample 1: xyz_cm must be 21x3 (got 20 rows)"},
      {std::string("{\"image\": \"a.png\", \"K_crop\": [[1,0,0],[0,\"x\",0],[0,0,1]], \"xyz_cm\": ") +
           json_points(joints(0.1)) + "}",
       "sample 1: K_crop[1][1] is not a number"},
      {std::string("{\"image\": 3, \"K_crop\": ") + kK + ", \"xyz_cm\": " + json_points(joints(-0.1)) + "}",
       "sample 1: \"image\" is not a string"},
      {std::string("{\"image\": \"a.png\", \"K_crop\": ") + kK + ", \"xyz_cm\": " + json_points(joints(-0.1)) + "}",
       "sample 1: joint wrist is not in front of the camera"},
      // Finite as a double, infinite as the float32 of a tensor: a NaN loss at step 3 before.
      {std::string("{\"image\": \"a.png\", \"K_crop\": ") + kK + ", \"xyz_cm\": " + json_points(joints(1e299)) + "}",
       "sample 1: joint wrist is more than 100 m (1e5 mm) from the camera"},
  };
  for (const auto& c : cases) {
    const auto path = (dir / "m.json").string();
    write_file(path, "{\"samples\": [" + good + "," + c.second + "]}");
    EXPECT_EQ(error_of([&] { load_hand_manifest(path); }).rfind(path + ": " + c.expected, 0), 0u)
        << error_of([&] { load_hand_manifest(path); });
  }
  write_file(dir / "broken.json", "{\"samples\": [");
  EXPECT_NE(error_of([&] {
              load_hand_manifest((dir / "broken.json").string());
            }).find((dir / "broken.json").string() + ":1: invalid JSON"),
            std::string::npos);
  write_file(dir / "empty.json", "{\"samples\": []}");
  EXPECT_EQ(error_of([&] { load_hand_manifest((dir / "empty.json").string()); }),
            (dir / "empty.json").string() + ": no samples");
  EXPECT_EQ(error_of([&] { load_hand_manifest((dir / "nope.json").string()); }),
            (dir / "nope.json").string() + ": cannot open");
}

TEST_F(HandFormats, MissingOrCorruptImageNamesThePath) {
  const fs::path& dir = scratch_.path();
  write_file(dir / "corrupt.jpg", "this is not a JPEG");
  write_file(dir / "empty.png", "");
  fs::create_directories(dir / "folder.jpg");
  HandRecord r;
  r.K = cv::Matx33d(500, 0, 16, 0, 500, 12, 0, 0, 1);
  for (const auto& name : {"missing.jpg", "corrupt.jpg", "empty.png", "folder.jpg"}) {
    r.image_path = (dir / name).string();
    EXPECT_EQ(error_of([&] { load_hand_image(r); }), r.image_path + ": cannot decode image");
  }
}

TEST_F(HandFormats, FreihandLayoutMetresAndImageVersions) {
  const fs::path& dir = scratch_.path();
  write_file(dir / "training_xyz.json", "[" + json_points(joints(1e-3)) + "," + json_points(joints(1e-3, 9)) + "]");
  write_file(dir / "training_K.json", std::string("[") + kK + "," + kK + "]");
  // Official layout: images under training/rgb.
  fs::create_directories(dir / "training/rgb");
  const auto records = load_freihand(dir.string(), "training", 2);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[3].image_path, (dir / "training/rgb/00000003.jpg").string());
  EXPECT_NEAR(records[1].xyz_mm[0].x, -30 + 9, 1e-9);         // m -> mm
  EXPECT_EQ(records[2].xyz_mm[0].x, records[0].xyz_mm[0].x);  // image 2 uses labels 0
  EXPECT_NEAR(records[3].xyz_mm[20].z, 420, 1e-9);
  // Flat layout: rgb/ next to the JSON files.
  fs::remove_all(dir / "training");
  EXPECT_EQ(load_freihand(dir.string())[1].image_path, (dir / "rgb/00000001.jpg").string());
  EXPECT_EQ(load_hand_records(dir.string()).size(), 2u);

  write_file(dir / "training_K.json", std::string("[") + kK + "]");
  EXPECT_EQ(
      error_of([&] { load_freihand(dir.string()); }),
      (dir / "training_K.json").string() + ": 1 matrices for 2 joint sets in " + (dir / "training_xyz.json").string());
  write_file(dir / "training_K.json", std::string("[") + kK + "," + kK + "]");
  write_file(dir / "training_xyz.json", "[" + json_points(joints(1e-3)) + "," + json_points(joints(1e-3), 19) + "]");
  EXPECT_EQ(error_of([&] {
              load_freihand(dir.string());
            }).rfind((dir / "training_xyz.json").string() + ": sample 1: xyz must be 21x3", 0),
            0u);
}

std::string csv_header(bool named, bool with_uv) {
  std::string h = "image,fx,fy,cx,cy";
  for (int j = 0; j < kHandJoints; ++j)
    for (const char* a : {"x", "y", "z"})
      h += "," + (named ? std::string(kHandJointNames[j]) + "_" + a : a + std::to_string(j));
  if (with_uv)
    for (int j = 0; j < kHandJoints; ++j)
      for (const char* a : {"u", "v"}) h += "," + std::string(kHandJointNames[j]) + "_" + a;
  return h;
}

std::string csv_row(const std::string& image, double unit, bool with_uv) {
  std::ostringstream s;
  s.precision(17);
  s << image << ",500,510,16,12";
  for (const auto& p : joints(unit)) s << "," << p[0] << "," << p[1] << "," << p[2];
  if (with_uv)
    for (int j = 0; j < kHandJoints; ++j) s << "," << j + 0.25 << "," << -j;
  return s.str();
}

TEST_F(HandFormats, CsvByColumnNameInMillimetresOrCentimetres) {
  const fs::path& dir = scratch_.path();
  write_image(dir / "img/a.png");
  write_file(dir / "mm.csv",
             "\xEF\xBB\xBF" + csv_header(false, false) + "\r\n" + csv_row("img/a.png", 1, false) + "\r\n\r\n");
  const auto mm = load_hand_csv((dir / "mm.csv").string());
  ASSERT_EQ(mm.size(), 1u);
  EXPECT_EQ(mm[0].image_path, (dir / "img/a.png").string());
  EXPECT_DOUBLE_EQ(mm[0].K(0, 0), 500);
  EXPECT_DOUBLE_EQ(mm[0].K(1, 2), 12);
  EXPECT_DOUBLE_EQ(mm[0].xyz_mm[7].z, 407);
  EXPECT_NEAR(cv::norm(mm[0].uv[7] - project_point(mm[0].K, mm[0].xyz_mm[7])), 0, 1e-12);
  EXPECT_EQ(load_hand_image(mm[0]).image.cols, 32);
  EXPECT_EQ(load_hand_records((dir / "mm.csv").string()).size(), 1u);

  // The shared annotations.csv form: named columns, centimetres, 2D labels.
  write_file(dir / "cm.csv", csv_header(true, true) + "\n" + csv_row("img/a.png", 0.1, true) + "\n");
  const auto cm = load_hand_csv((dir / "cm.csv").string(), 10.0);
  EXPECT_NEAR(cm[0].xyz_mm[7].z, 407, 1e-9);
  EXPECT_DOUBLE_EQ(cm[0].uv[7].x, 7.25);
  EXPECT_DOUBLE_EQ(cm[0].uv[7].y, -7);
}

TEST_F(HandFormats, MalformedCsvNamesFileAndLine) {
  const fs::path& dir = scratch_.path();
  const auto path = (dir / "h.csv").string();
  const std::string header = csv_header(false, false), row = csv_row("a.png", 1, false);
  struct Case {
    std::string text, expected;
  };
  std::string no_z20 = header.substr(0, header.rfind(",z20"));
  std::string bad_number = row;
  bad_number.replace(bad_number.find(",500,"), 5, ",5OO,");
  const std::vector<Case> cases = {
      {no_z20 + "\n" + row.substr(0, row.rfind(',')) + "\n", path + ":1: missing column z20 (or little_tip_z)"},
      {"image,fx,fy,cx\n", path + ":1: missing column cy"},
      {header + "\n" + row + "\n\n" + row + ",7\n", path + ":4: expected 68 fields, got 69"},
      {header + "\n" + bad_number + "\n", path + ":2: column fx: '5OO' is not a number"},
      {header + "\n", path + ": no samples"},
      {"", path + ": no header line"},
  };
  for (const auto& c : cases) {
    write_file(path, c.text);
    EXPECT_EQ(error_of([&] { load_hand_csv(path); }), c.expected);
  }
  EXPECT_EQ(
      error_of([&] { load_hand_records((dir / "h.txt").string()); }).rfind((dir / "h.txt").string() + ": unknown", 0),
      0u);
}

// The 480 real frames of ../shared/data/hand_realworld_ge2019 (not part of the repository).
const std::string kRealManifest = ZOO_SOURCE_DIR "/../shared/data/hand_realworld_ge2019/annotations.json";

TEST(HandRealData, ManifestLabelsProjectOntoTheirPixels) {
  if (!fs::exists(kRealManifest)) GTEST_SKIP() << "real hand data not found at " << kRealManifest;
  const auto records = load_hand_manifest(kRealManifest);
  ASSERT_EQ(records.size(), 480u);
  std::ifstream in(kRealManifest);
  const auto names = nlohmann::json::parse(in).at("keypoint_names");  // same order as ours
  ASSERT_EQ(names.size(), size_t(kHandJoints));
  for (int j = 0; j < kHandJoints; ++j) EXPECT_EQ(names[j].get<std::string>(), kHandJointNames[j]);
  double worst = 0;
  for (const auto& r : records) {
    for (int j = 0; j < kHandJoints; ++j) worst = std::max(worst, cv::norm(r.uv[j] - project_point(r.K, r.xyz_mm[j])));
    const double ref = hand_reference_bone_mm(r.xyz_mm);
    EXPECT_GT(ref, 50);  // an adult hand's wrist -> middle MCP, in mm (cm were converted)
    EXPECT_LT(ref, 120);
  }
  EXPECT_LT(worst, 1.0) << "uv_crop vs K_crop·xyz / z, pixels";
  // The CSV copy holds the same labels (centimetres, named columns).
  const auto csv = load_hand_csv(fs::path(kRealManifest).replace_extension(".csv").string(), 10.0);
  ASSERT_EQ(csv.size(), records.size());
  for (size_t i = 0; i < csv.size(); i += 37) {
    EXPECT_EQ(csv[i].image_path, records[i].image_path);
    for (int j = 0; j < kHandJoints; ++j) EXPECT_NEAR(cv::norm(csv[i].xyz_mm[j] - records[i].xyz_mm[j]), 0, 1e-9);
  }
}

TEST(HandRealData, LoadAndAugmentThroughput) {
  if (!fs::exists(kRealManifest)) GTEST_SKIP() << "real hand data not found at " << kRealManifest;
  const auto records = load_hand_manifest(kRealManifest);
  EXPECT_EQ(load_hand_image(records[0]).image.size(), cv::Size(256, 256));
  AugmentOptions options;
  options.output_size = 128;
  const auto start = std::chrono::steady_clock::now();
  const size_t n = 240;
  for (size_t i = 0; i < n; ++i) {
    const HandSample s = augment(load_hand_image(records[i]), options, i);
    ASSERT_EQ(s.image.size(), cv::Size(128, 128));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "real images, decode 256 px + augment to 128 px, one thread: " << n / seconds << " samples/s\n";
}

}  // namespace
}  // namespace zoo
