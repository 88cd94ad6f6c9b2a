#pragma once
// Hand-keypoint data sets on disk -> lists of records (image path + labels). Images are decoded
// only by load_hand_image, one at a time, so a data set never has to sit in memory decoded
// (480 frames at 256x256 would be 94 MB; FreiHAND's 130k frames 19 GB).
//
// Every loader is strict: a missing key, a wrong number of joints or a non-numeric value is a
// std::runtime_error naming the file and the entry ("PATH: sample 12: ..." for JSON, "PATH:LINE:
// ..." for CSV, LINE 1-based), never a silently skipped or zero-filled entry. Coordinates must be
// finite and every joint must lie in front of the camera (z > 0). A file that cannot be opened
// gives "PATH: cannot open"; a file without any sample gives "PATH: no samples".
#include <string>
#include <vector>

#include "data/hand_sample.h"

namespace zoo {

// Labels of one image; everything of a HandSample except the pixels.
struct HandRecord {
  std::string image_path;           // as given, joined to the annotation file's folder
  cv::Matx33d K;                    // intrinsics of the image on disk
  std::vector<cv::Point3d> xyz_mm;  // 21 joints, camera coordinates, millimetres
  std::vector<cv::Point2d> uv;      // 21 joints in pixels (from the file, else K·xyz / z)
  std::vector<float> visible;       // 21 flags (all 1 unless the file says otherwise)
};

// The JSON manifest of ../shared/data/hand_realworld_ge2019/annotations.json:
//   {"samples": [{"image": "images/00000.jpg", "K_crop": 3x3, "xyz_cm": 21x3,
//                 "uv_crop": 21x2 (optional)}, ...]}   (other keys ignored)
// xyz_cm is converted to mm; uv_crop is taken as given (it is rounded to 1e-3 px in that file;
// without it uv is projected). "image" is relative to the manifest's folder unless absolute.
std::vector<HandRecord> load_hand_manifest(const std::string& json_path);

// FreiHAND (Zimmermann et al. 2019): `<dir>/<split>_xyz.json` (N x 21 x 3, METRES -> mm) and
// `<dir>/<split>_K.json` (N x 3 x 3); image i is `<dir>/<split>/rgb/%08d.jpg` as in the official
// release, or `<dir>/rgb/%08d.jpg` when `<dir>/<split>/rgb` does not exist. split is "training"
// or "evaluation". The training release holds 4 differently composited images per label set
// (image i uses labels i % N): `versions` (1..4) selects how many of those to list, in image
// order. uv is projected.
std::vector<HandRecord> load_freihand(const std::string& dir, const std::string& split = "training", int versions = 1);

// CSV, comma-separated, one sample per line, header REQUIRED; columns are found by header name,
// in any order, extra columns ignored:
//   image            image path, relative to the CSV's folder unless absolute (no quoting: a
//                    path must not contain ',')
//   fx, fy, cx, cy   intrinsics (zero skew)
//   x0,y0,z0 ... x20,y20,z20        joint coordinates (joint numbers 0..20), or equivalently
//   wrist_x,wrist_y,wrist_z ...     named as <kHandJointNames[j]>_x (the shared annotations.csv)
//   u0,v0.. / <name>_u,<name>_v     optional 2D labels (all 21 or none); else uv is projected
//   vis0.. / <name>_vis             optional visibility 0/1 (all 21 or none); else all 1
// Coordinates are multiplied by `xyz_to_mm`: 1 for millimetres (the default), 10 for the shared
// annotations.csv (centimetres), 1000 for metres. Blank lines are skipped, CRLF is accepted.
std::vector<HandRecord> load_hand_csv(const std::string& csv_path, double xyz_to_mm = 1.0);

// Picks a loader by the path: a directory -> load_freihand(path); "*.json" -> manifest;
// "*.csv" -> load_hand_csv (millimetres). Throws std::runtime_error for anything else.
std::vector<HandRecord> load_hand_records(const std::string& path);

// Decodes the record's image (BGR uint8) and copies its labels; source = image_path. A missing,
// unreadable or undecodable image throws std::runtime_error("PATH: cannot decode image").
HandSample load_hand_image(const HandRecord& record);

}  // namespace zoo
