#pragma once
// One labelled hand image and the 21-joint hand skeleton shared by every hand-keypoint file
// (loaders, synthetic generator, augmentation, batching, metrics).
//
// Conventions (spec §4.2, FreiHAND):
//   * joint order: wrist, then 4 joints per finger from base to tip for thumb, index, middle,
//     ring, little (RHD lists each finger tip -> base: reorder before mixing data sets);
//   * xyz in camera coordinates (x right, y down, z forward, z > 0 in front of the camera), in
//     MILLIMETRES everywhere in this code base (FreiHAND stores metres, Ge et al. centimetres:
//     the loaders convert);
//   * pinhole projection uv = K·xyz / z, no lens distortion;
//   * pixel coordinates follow OpenCV: the centre of pixel (col, row) is at (u, v) = (col, row),
//     so the image covers [-0.5, W - 0.5) x [-0.5, H - 0.5). cv::warpAffine / cv::resize use the
//     same convention, which is what keeps uv exact under augmentation.
#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <utility>
#include <vector>

namespace zoo {

constexpr int kHandJoints = 21;

// Joint ids used by name elsewhere.
constexpr int kWrist = 0;
constexpr int kThumbMcp = 1;
constexpr int kIndexMcp = 5;
constexpr int kMiddleMcp = 9;
constexpr int kRingMcp = 13;
constexpr int kLittleMcp = 17;

// Same names as ../shared/data/hand_realworld_ge2019/annotations.json "keypoint_names".
constexpr std::array<const char*, kHandJoints> kHandJointNames = {
    "wrist",     "thumb_mcp", "thumb_pip",  "thumb_dip",  "thumb_tip",  "index_mcp",  "index_pip",
    "index_dip", "index_tip", "middle_mcp", "middle_pip", "middle_dip", "middle_tip", "ring_mcp",
    "ring_pip",  "ring_dip",  "ring_tip",   "little_mcp", "little_pip", "little_dip", "little_tip"};

// Parent of each joint in the kinematic tree (-1 for the wrist, the root). Finger bases hang
// from the wrist, so the 20 bones are (kHandParent[j], j) for j = 1..20.
constexpr std::array<int, kHandJoints> kHandParent = {-1, 0,  1, 2,  3,  0,  5, 6,  7,  0, 9,
                                                      10, 11, 0, 13, 14, 15, 0, 17, 18, 19};

// The skeleton's 20 bones as (parent, child) pairs, in child order: for drawing and bone-length
// losses/checks.
constexpr std::array<std::pair<int, int>, kHandJoints - 1> kHandBones = {{
    {0, 1},   {1, 2},   {2, 3},  {3, 4},   {0, 5},   {5, 6},   {6, 7},  {7, 8},   {0, 9},   {9, 10},
    {10, 11}, {11, 12}, {0, 13}, {13, 14}, {14, 15}, {15, 16}, {0, 17}, {17, 18}, {18, 19}, {19, 20},
}};

struct HandSample {
  cv::Mat image;                    // BGR, CV_8UC3 (what cv::imread returns)
  cv::Matx33d K;                    // intrinsics of THIS image (updated by every resize/warp)
  std::vector<cv::Point3d> xyz_mm;  // 21 joints, camera coordinates, millimetres
  std::vector<cv::Point2d> uv;      // 21 joints, pixels of `image`
  // 21 flags, 1 or 0: 1 = labelled and inside the image. Self-occlusion is NOT encoded (none of
  // the supported data sets label it); augmentation sets 0 for joints that leave the image.
  std::vector<float> visible;
  std::string source;  // image path, or "synthetic:<seed>"
};

// uv = K·p / z. No check of z: a point behind the camera projects to garbage, as in the formula.
inline cv::Point2d project_point(const cv::Matx33d& K, const cv::Point3d& p) {
  const cv::Vec3d q = K * cv::Vec3d(p.x, p.y, p.z);
  return {q[0] / q[2], q[1] / q[2]};
}

inline std::vector<cv::Point2d> project_points(const cv::Matx33d& K, const std::vector<cv::Point3d>& xyz) {
  std::vector<cv::Point2d> uv;
  uv.reserve(xyz.size());
  for (const auto& p : xyz) uv.push_back(project_point(K, p));
  return uv;
}

// Euclidean length of the wrist -> middle-finger MCP bone: the per-sample scale used to
// normalise 3D targets (data/hand_batch.h).
inline double hand_reference_bone_mm(const std::vector<cv::Point3d>& xyz_mm) {
  return cv::norm(xyz_mm.at(kMiddleMcp) - xyz_mm.at(kWrist));
}

}  // namespace zoo
