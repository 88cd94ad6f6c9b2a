#include "data/hand_formats.h"
#include "io/error.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <stdexcept>

#include "data/image_file.h"
#include "data/text_lines.h"

namespace zoo {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string join_to_folder_of(const std::string& file, const std::string& relative) {
  const fs::path p(relative);
  if (p.is_absolute()) return relative;
  return (fs::path(file).parent_path() / p).string();
}

// Labels every loader must satisfy; "" when fine. Checked once here so that a NaN or a joint
// behind the camera fails at load time with its location, not as a NaN loss hours later.
// Finite is not enough: 1e300 survives as a double and becomes inf (then NaN) in the float32
// tensors, so values are bounded by what a camera can see (a hand 100 m away, an image 10^7 px).
constexpr double kMaxDistanceMm = 1e5, kMaxPixels = 1e7;

std::string check_record(const HandRecord& r) {
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k)
      if (!std::isfinite(r.K(i, k)) || std::abs(r.K(i, k)) > kMaxPixels) return "K is not finite or exceeds 1e7";
  if (r.K(0, 0) == 0 || r.K(1, 1) == 0 || r.K(2, 0) != 0 || r.K(2, 1) != 0 || r.K(2, 2) != 1)
    return "K is not an intrinsic matrix [[fx,s,cx],[0,fy,cy],[0,0,1]] with fx, fy != 0";
  for (int j = 0; j < kHandJoints; ++j) {
    const auto& p = r.xyz_mm[j];
    if (!std::isfinite(p.x) || !std::isfinite(p.y) || !std::isfinite(p.z))
      return std::string("joint ") + kHandJointNames[j] + " is not finite";
    if (p.z <= 0) return std::string("joint ") + kHandJointNames[j] + " is not in front of the camera (z <= 0)";
    if (std::max({std::abs(p.x), std::abs(p.y), p.z}) > kMaxDistanceMm)
      return std::string("joint ") + kHandJointNames[j] + " is more than 100 m (1e5 mm) from the camera";
    if (!std::isfinite(r.uv[j].x) || !std::isfinite(r.uv[j].y) ||
        std::max(std::abs(r.uv[j].x), std::abs(r.uv[j].y)) > kMaxPixels)
      return std::string("uv of ") + kHandJointNames[j] + " is not finite or exceeds 1e7 px";
  }
  return "";
}

json read_json(const std::string& path) { return read_json_data_file(path); }

double json_number(const json& v, const std::string& what) {
  if (!v.is_number()) throw std::runtime_error(what + " is not a number");
  return v.get<double>();
}

// An array of `rows` arrays of `cols` numbers, as a row-major vector.
std::vector<double> json_matrix(const json& v, size_t rows, size_t cols, const std::string& what) {
  const std::string shape = std::to_string(rows) + "x" + std::to_string(cols);
  if (!v.is_array() || v.size() != rows)
    throw std::runtime_error(what + " must be " + shape +
                             (v.is_array() ? " (got " + std::to_string(v.size()) + " rows)" : ""));
  std::vector<double> out;
  for (size_t i = 0; i < rows; ++i) {
    if (!v[i].is_array() || v[i].size() != cols)
      throw std::runtime_error(what + " must be " + shape + " (row " + std::to_string(i) + ")");
    for (size_t k = 0; k < cols; ++k)
      out.push_back(json_number(v[i][k], what + "[" + std::to_string(i) + "][" + std::to_string(k) + "]"));
  }
  return out;
}

cv::Matx33d to_K(const std::vector<double>& m) {
  cv::Matx33d K;
  for (int i = 0; i < 9; ++i) K.val[i] = m[static_cast<size_t>(i)];
  return K;
}

std::vector<cv::Point3d> to_points3(const std::vector<double>& m, double to_mm) {
  std::vector<cv::Point3d> p;
  for (size_t j = 0; j + 2 < m.size(); j += 3) p.emplace_back(m[j] * to_mm, m[j + 1] * to_mm, m[j + 2] * to_mm);
  return p;
}

// Fills uv (projecting when the file has none) and visible, then validates.
void finish_record(HandRecord& r, const std::string& where) {
  if (r.uv.empty()) r.uv = project_points(r.K, r.xyz_mm);
  if (r.visible.empty()) r.visible.assign(kHandJoints, 1.0f);
  const std::string problem = check_record(r);
  if (!problem.empty()) fail(where, problem);
}

}  // namespace

std::vector<HandRecord> load_hand_manifest(const std::string& json_path) {
  const json doc = read_json(json_path);
  if (!doc.is_object() || !doc.contains("samples") || !doc["samples"].is_array())
    fail(json_path, "expected an object with a \"samples\" array");
  const json& samples = doc["samples"];
  std::vector<HandRecord> records;
  records.reserve(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const std::string where = json_path + ": sample " + std::to_string(i);
    const json& s = samples[i];
    HandRecord r;
    try {
      if (!s.is_object()) throw std::runtime_error("not an object");
      for (const char* key : {"image", "K_crop", "xyz_cm"})
        if (!s.contains(key)) throw std::runtime_error(std::string("missing key \"") + key + "\"");
      if (!s["image"].is_string()) throw std::runtime_error("\"image\" is not a string");
      r.image_path = join_to_folder_of(json_path, s["image"].get<std::string>());
      r.K = to_K(json_matrix(s["K_crop"], 3, 3, "K_crop"));
      r.xyz_mm = to_points3(json_matrix(s["xyz_cm"], kHandJoints, 3, "xyz_cm"), 10.0);
      if (s.contains("uv_crop")) {
        const auto uv = json_matrix(s["uv_crop"], kHandJoints, 2, "uv_crop");
        for (size_t j = 0; j < uv.size(); j += 2) r.uv.emplace_back(uv[j], uv[j + 1]);
      }
    } catch (const std::runtime_error& e) {
      fail(where, e.what());
    }
    finish_record(r, where);
    records.push_back(std::move(r));
  }
  if (records.empty()) fail(json_path, "no samples");
  return records;
}

std::vector<HandRecord> load_freihand(const std::string& dir, const std::string& split, int versions) {
  if (split != "training" && split != "evaluation")
    throw std::invalid_argument("load_freihand: split must be \"training\" or \"evaluation\", got \"" + split + "\"");
  if (versions < 1 || versions > 4)
    throw std::invalid_argument("load_freihand: versions must be 1..4, got " + std::to_string(versions));
  const std::string xyz_path = (fs::path(dir) / (split + "_xyz.json")).string();
  const std::string k_path = (fs::path(dir) / (split + "_K.json")).string();
  const json xyz = read_json(xyz_path), Ks = read_json(k_path);
  if (!xyz.is_array()) fail(xyz_path, "expected an array of 21x3 joint arrays");
  if (!Ks.is_array()) fail(k_path, "expected an array of 3x3 matrices");
  if (xyz.size() != Ks.size())
    fail(k_path,
         std::to_string(Ks.size()) + " matrices for " + std::to_string(xyz.size()) + " joint sets in " + xyz_path);
  fs::path rgb = fs::path(dir) / split / "rgb";
  if (!fs::is_directory(rgb)) rgb = fs::path(dir) / "rgb";

  std::vector<HandRecord> labels(xyz.size());
  for (size_t i = 0; i < xyz.size(); ++i) {
    HandRecord& r = labels[i];
    try {
      r.xyz_mm = to_points3(json_matrix(xyz[i], kHandJoints, 3, "xyz"), 1000.0);
    } catch (const std::runtime_error& e) {
      fail(xyz_path + ": sample " + std::to_string(i), e.what());
    }
    try {
      r.K = to_K(json_matrix(Ks[i], 3, 3, "K"));
    } catch (const std::runtime_error& e) {
      fail(k_path + ": sample " + std::to_string(i), e.what());
    }
    finish_record(r, xyz_path + ": sample " + std::to_string(i));
  }
  if (labels.empty()) fail(xyz_path, "no samples");

  std::vector<HandRecord> records;
  records.reserve(labels.size() * static_cast<size_t>(versions));
  for (size_t i = 0; i < labels.size() * static_cast<size_t>(versions); ++i) {
    HandRecord r = labels[i % labels.size()];
    char name[32];
    std::snprintf(name, sizeof name, "%08zu.jpg", i);
    r.image_path = (rgb / name).string();
    records.push_back(std::move(r));
  }
  return records;
}

namespace {

// Column index of the joint coordinate `axis` (x, y, z, u, v or vis) of joint j: "x5" or
// "index_mcp_x"; -1 when the header has neither.
int joint_column(const std::map<std::string, int>& header, int j, const std::string& axis) {
  for (const std::string& name : {axis + std::to_string(j), std::string(kHandJointNames[j]) + "_" + axis}) {
    const auto it = header.find(name);
    if (it != header.end()) return it->second;
  }
  return -1;
}

// Columns of `axes` for all 21 joints; empty when none is present (optional groups), an error
// naming the first missing one when only some are.
std::vector<int> joint_columns(const std::map<std::string, int>& header, const std::vector<std::string>& axes,
                               bool required, const std::string& path) {
  std::vector<int> cols;
  std::string first_missing;
  for (int j = 0; j < kHandJoints; ++j)
    for (const auto& a : axes) {
      const int c = joint_column(header, j, a);
      if (c >= 0)
        cols.push_back(c);
      else if (first_missing.empty())
        first_missing = a + std::to_string(j) + " (or " + kHandJointNames[j] + "_" + a + ")";
    }
  if (cols.empty() && !required) return {};
  if (!first_missing.empty()) fail(path + ":1", "missing column " + first_missing);
  return cols;
}

}  // namespace

std::vector<HandRecord> load_hand_csv(const std::string& csv_path, double xyz_to_mm) {
  const auto lines = read_lines(csv_path);
  if (lines.empty() || blank(lines[0])) fail(csv_path, "no header line");

  std::map<std::string, int> header;
  const auto names = split_csv_line(lines[0]);
  for (size_t c = 0; c < names.size(); ++c) header.emplace(names[c], static_cast<int>(c));
  std::vector<int> base;
  for (const char* key : {"image", "fx", "fy", "cx", "cy"}) {
    const auto it = header.find(key);
    if (it == header.end()) fail(csv_path + ":1", std::string("missing column ") + key);
    base.push_back(it->second);
  }
  const auto xyz_cols = joint_columns(header, {"x", "y", "z"}, true, csv_path);
  const auto uv_cols = joint_columns(header, {"u", "v"}, false, csv_path);
  const auto vis_cols = joint_columns(header, {"vis"}, false, csv_path);

  std::vector<HandRecord> records;
  for (size_t ln = 1; ln < lines.size(); ++ln) {
    if (blank(lines[ln])) continue;
    const std::string where = csv_path + ":" + std::to_string(ln + 1);
    const auto f = split_csv_line(lines[ln]);
    if (f.size() != names.size())
      fail(where, "expected " + std::to_string(names.size()) + " fields, got " + std::to_string(f.size()));
    auto num = [&](int col) {
      const std::string& s = f[static_cast<size_t>(col)];
      double v = 0;
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        fail(where, "column " + names[static_cast<size_t>(col)] + ": '" + s + "' is not a number");
      return v;
    };
    HandRecord r;
    if (f[static_cast<size_t>(base[0])].empty()) fail(where, "empty image path");
    r.image_path = join_to_folder_of(csv_path, f[static_cast<size_t>(base[0])]);
    r.K = cv::Matx33d(num(base[1]), 0, num(base[3]), 0, num(base[2]), num(base[4]), 0, 0, 1);
    for (size_t k = 0; k < xyz_cols.size(); k += 3)
      r.xyz_mm.emplace_back(num(xyz_cols[k]) * xyz_to_mm, num(xyz_cols[k + 1]) * xyz_to_mm,
                            num(xyz_cols[k + 2]) * xyz_to_mm);
    for (size_t k = 0; k < uv_cols.size(); k += 2) r.uv.emplace_back(num(uv_cols[k]), num(uv_cols[k + 1]));
    for (int c : vis_cols) {
      const double v = num(c);
      if (v != 0 && v != 1) fail(where, "column " + names[static_cast<size_t>(c)] + ": visibility must be 0 or 1");
      r.visible.push_back(static_cast<float>(v));
    }
    finish_record(r, where);
    records.push_back(std::move(r));
  }
  if (records.empty()) fail(csv_path, "no samples");
  return records;
}

std::vector<HandRecord> load_hand_records(const std::string& path) {
  if (fs::is_directory(path)) return load_freihand(path);
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".json") return load_hand_manifest(path);
  if (ext == ".csv") return load_hand_csv(path);
  fail(path, "unknown hand data format (expected a FreiHAND folder, a .json manifest or a .csv)");
}

HandSample load_hand_image(const HandRecord& record) {
  const cv::Mat image = read_image_file(record.image_path, cv::IMREAD_COLOR);
  return HandSample{image, record.K, record.xyz_mm, record.uv, record.visible, record.image_path};
}

}  // namespace zoo
