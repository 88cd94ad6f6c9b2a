#include "data/hand_synth.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>
#include <stdexcept>
#include <string>

#include "data/sampling.h"

namespace zoo {

namespace {

constexpr double kDeg = CV_PI / 180.0;

// Hand frame: x radial (thumb side), y distal, z palmar; mm at scale 1. Finger 0 is the thumb.
// Bases: thumb CMC region (FreiHAND's "thumb_mcp") and the MCPs; the middle MCP sits dorsal of
// its neighbours (the palm's arch).
constexpr double kBase[5][3] = {{20, 27, 10}, {21, 80, 0}, {2, 83, -2}, {-15, 77, 0}, {-30, 67, 3}};
// Segment lengths from the base: thumb metacarpal/proximal/distal, fingers proximal/middle/distal.
constexpr double kLength[5][3] = {{40, 32, 28}, {40, 24, 22}, {45, 28, 24}, {42, 27, 24}, {33, 20, 21}};
constexpr double kWidth[5][3] = {{24, 21, 18}, {19, 17, 15}, {20, 18, 15}, {19, 17, 15}, {17, 15, 13}};
constexpr double kFanDeg[5] = {0, 9, 0, -9, -19};        // resting direction, towards radial
constexpr double kAbductionDeg[5] = {0, 12, 8, 10, 14};  // +- range around the fan
// Palm outline points beyond the joints: wrist ulnar/radial edges, radial edge by the index MCP,
// ulnar edge by the little MCP; and the forearm's two ends (it starts a little proximal to the
// wrist so that its round cap does not cover the palm).
constexpr double kPalmExtra[4][3] = {{-26, 0, 2}, {26, 0, 2}, {31, 74, 0}, {-38, 60, 3}};
constexpr double kForearm[2][3] = {{0, -14, 0}, {0, -170, 0}};
// Skin tones (BGR), light to dark.
constexpr double kSkin[6][3] = {{196, 214, 245}, {160, 190, 232}, {132, 168, 214},
                                {98, 136, 190},  {72, 104, 152},  {52, 74, 110}};

cv::Matx33d rot_x(double a) { return {1, 0, 0, 0, std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a)}; }
cv::Matx33d rot_y(double a) { return {std::cos(a), 0, std::sin(a), 0, 1, 0, -std::sin(a), 0, std::cos(a)}; }
cv::Matx33d rot_z(double a) { return {std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1}; }

cv::Vec3d vec(const double (&v)[3]) { return {v[0], v[1], v[2]}; }

// The 21 joints of a random articulation, hand frame, scale 1.
std::array<cv::Vec3d, kHandJoints> articulate(std::mt19937_64& rng) {
  std::array<cv::Vec3d, kHandJoints> joint;
  joint[kWrist] = {0, 0, 0};
  auto chain = [&](int f, cv::Matx33d R, const double(&flex_deg)[3]) {
    cv::Vec3d p = vec(kBase[f]);
    joint[4 * f + 1] = p;
    for (int k = 0; k < 3; ++k) {
      R = R * rot_x(flex_deg[k] * kDeg);  // positive flexion bends towards the palm (+z)
      p += R * cv::Vec3d(0, kLength[f][k], 0);
      joint[4 * f + 2 + k] = p;
    }
  };
  // Fingers: one curl per finger (poses are mostly open, mostly closed or in between), joints
  // follow it with noise; DIP couples to PIP at about 2/3 as in real hands.
  const double spread = uniform(rng, -0.4, 0.8);
  for (int f = 1; f <= 4; ++f) {
    const double u = uniform_unit(rng);
    const double curl = u < 0.3 ? uniform(rng, -0.15, 0.15) : u < 0.5 ? uniform(rng, 0.8, 1.05) : uniform(rng, 0, 1);
    const double abduction = kFanDeg[f] * (1 + spread) + uniform(rng, -0.5, 0.5) * kAbductionDeg[f];
    const double mcp = std::clamp(curl * 85 + uniform(rng, -10, 10), -20.0, 90.0);
    const double pip = std::clamp(curl * 100 + uniform(rng, -10, 10), 0.0, 110.0);
    const double dip = std::clamp(pip * 0.67 + uniform(rng, -8, 8), 0.0, 80.0);
    const double flex[3] = {mcp, pip, dip};
    chain(f, rot_z(-abduction * kDeg), flex);  // rot_z(-a) turns +y towards +x by a
  }
  // Thumb: opposition o in [0, 1] moves the CMC along its own axis: less radial spread, lifted
  // out of the palm plane, rolled about the metacarpal so that flexion goes across the palm.
  const double o = uniform_unit(rng), thumb_curl = uniform_unit(rng);
  const double in_plane = 50 - 20 * o + uniform(rng, -8, 8);
  const double lift = 10 + 45 * o + uniform(rng, -5, 5);
  const double roll = -(40 + 35 * o);
  const double flex[3] = {std::clamp(25 * o + uniform(rng, -5, 10), -5.0, 35.0),
                          std::clamp(thumb_curl * 55 + uniform(rng, -8, 8), 0.0, 60.0),
                          std::clamp(thumb_curl * 70 + uniform(rng, -15, 15), -10.0, 80.0)};
  chain(0, rot_z(-in_plane * kDeg) * rot_x(lift * kDeg) * rot_y(roll * kDeg), flex);
  return joint;
}

cv::Scalar scaled(const cv::Vec3d& bgr, double f) {
  return cv::Scalar(std::min(255.0, bgr[0] * f), std::min(255.0, bgr[1] * f), std::min(255.0, bgr[2] * f));
}

cv::Scalar random_colour(std::mt19937_64& rng) {
  return cv::Scalar(uniform(rng, 0, 255), uniform(rng, 0, 255), uniform(rng, 0, 255));
}

constexpr int kShift = 4;  // sub-pixel bits for OpenCV drawing: limbs land where uv says
cv::Point fixed(const cv::Point2d& p) { return {cvRound(p.x * (1 << kShift)), cvRound(p.y * (1 << kShift))}; }

cv::Mat background(std::mt19937_64& rng, int size, const cv::Vec3d& skin) {
  cv::Mat grid(3, 3, CV_8UC3);
  for (int i = 0; i < 9; ++i) {
    const cv::Scalar c = random_colour(rng);
    grid.at<cv::Vec3b>(i / 3, i % 3) =
        cv::Vec3b(cv::saturate_cast<uchar>(c[0]), cv::saturate_cast<uchar>(c[1]), cv::saturate_cast<uchar>(c[2]));
  }
  cv::Mat img;
  cv::resize(grid, img, cv::Size(size, size), 0, 0, cv::INTER_LINEAR);
  const int shapes = static_cast<int>(uniform_index(rng, 9));
  for (int i = 0; i < shapes; ++i) {
    const cv::Point2d a(uniform(rng, -0.1, 1.1) * size, uniform(rng, -0.1, 1.1) * size);
    const cv::Point2d b(uniform(rng, -0.1, 1.1) * size, uniform(rng, -0.1, 1.1) * size);
    const double r = uniform(rng, 0.03, 0.3) * size;
    // A skin-coloured distractor now and then, so that colour alone does not find the hand.
    const cv::Scalar colour = uniform_unit(rng) < 0.15 ? scaled(skin, uniform(rng, 0.7, 1.1)) : random_colour(rng);
    const int thickness = uniform_unit(rng) < 0.6 ? cv::FILLED : 1 + static_cast<int>(uniform_index(rng, 4));
    switch (uniform_index(rng, 4)) {
      case 0:
        cv::circle(img, fixed(a), cvRound(r * (1 << kShift)), colour, thickness, cv::LINE_AA, kShift);
        break;
      case 1:
        cv::rectangle(img, fixed(a), fixed(b), colour, thickness, cv::LINE_AA, kShift);
        break;
      case 2:
        cv::ellipse(img, a, cv::Size2d(r, r * uniform(rng, 0.2, 1)), uniform(rng, 0, 180), 0, 360, colour, thickness,
                    cv::LINE_AA);
        break;
      default:
        cv::line(img, fixed(a), fixed(b), colour, 1 + static_cast<int>(uniform_index(rng, 6)), cv::LINE_AA, kShift);
    }
  }
  if (uniform_unit(rng) < 0.4) {  // blotchy texture: low-resolution noise blown up
    const int n = 4 + static_cast<int>(uniform_index(rng, 13));
    cv::Mat noise(n, n, CV_8UC3);
    cv::RNG(rng()).fill(noise, cv::RNG::UNIFORM, 0, 256);
    cv::resize(noise, noise, img.size(), 0, 0, cv::INTER_CUBIC);
    const double w = uniform(rng, 0.1, 0.35);
    cv::addWeighted(img, 1 - w, noise, w, 0, img);
  }
  const double sigma = uniform(rng, 0, 2.5);  // depth of field: background usually softer
  if (sigma > 0.5) cv::GaussianBlur(img, img, cv::Size(0, 0), sigma);
  return img;
}

struct Primitive {
  double depth;                   // draw far (large z) first
  std::vector<cv::Point2d> poly;  // palm outline (convex hull), or the limb's two ends
  int thickness = 0;              // 0 for the palm polygon
  cv::Scalar colour, outline, highlight;
};

}  // namespace

std::array<double, kHandJoints> synthetic_hand_bone_lengths_mm() {
  std::array<double, kHandJoints> len{};
  for (int f = 0; f < 5; ++f) {
    len[static_cast<size_t>(4 * f + 1)] = cv::norm(vec(kBase[f]));
    for (int k = 0; k < 3; ++k) len[static_cast<size_t>(4 * f + 2 + k)] = kLength[f][k];
  }
  return len;
}

HandSample synthetic_hand(uint64_t seed, int image_size) {
  if (image_size < 32)
    throw std::invalid_argument("synthetic_hand: image_size must be >= 32, got " + std::to_string(image_size));
  std::mt19937_64 rng(mix_seed(seed, 0x48414E44));  // "HAND": not the same stream as other users of seed
  const double S = image_size;

  // Pose and shape.
  const auto hand = articulate(rng);
  const double scale = uniform(rng, 0.85, 1.15);
  const cv::Matx33d R = rot_z(uniform(rng, 0, 2 * CV_PI)) * rot_x(uniform(rng, -70, 70) * kDeg) *
                        rot_y(uniform(rng, -70, 70) * kDeg) * rot_y(uniform_unit(rng) < 0.5 ? CV_PI : 0.0);
  std::vector<cv::Vec3d> q;  // rotated, scaled, relative to the wrist: joints, palm extras, forearm
  for (const auto& p : hand) q.push_back(R * (scale * p));
  for (const auto& p : kPalmExtra) q.push_back(R * (scale * vec(p)));
  for (const auto& p : kForearm) q.push_back(R * (scale * vec(p)));

  // Camera and placement: depth from the wanted fill, then pushed back until every joint is
  // inside the margin and no joint is closer than half the distance (no extreme perspective).
  const double f = S * uniform(rng, 1.4, 2.2), c = (S - 1) / 2;
  const cv::Matx33d K(f, 0, c, 0, f, c, 0, 0, 1);
  const double fill = uniform(rng, 0.45, 0.8), margin = 0.04 * S;
  const double max_shift = std::max(0.0, S * (1 - fill) / 2 - margin);
  const cv::Point2d shift(uniform(rng, -1, 1) * max_shift, uniform(rng, -1, 1) * max_shift);
  cv::Vec3d lo = q[0], hi = q[0];
  double zmean = 0;
  for (int j = 0; j < kHandJoints; ++j) {
    for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], q[j][a]), hi[a] = std::max(hi[a], q[j][a]);
    zmean += q[j][2] / kHandJoints;
  }
  double z0 = f * std::max(hi[0] - lo[0], hi[1] - lo[1]) / (fill * S);
  HandSample s;
  cv::Vec3d t;
  for (int attempt = 0;; ++attempt) {
    if (attempt == 100)
      throw std::logic_error("synthetic_hand: cannot place the hand (seed " + std::to_string(seed) + ")");
    t = cv::Vec3d(-(lo[0] + hi[0]) / 2 + z0 * shift.x / f, -(lo[1] + hi[1]) / 2 + z0 * shift.y / f, z0 - zmean);
    s.xyz_mm.clear();
    for (int j = 0; j < kHandJoints; ++j) s.xyz_mm.emplace_back(q[j][0] + t[0], q[j][1] + t[1], q[j][2] + t[2]);
    s.uv = project_points(K, s.xyz_mm);
    bool ok = lo[2] + t[2] > 0.5 * z0;
    for (const auto& p : s.uv)
      ok = ok && p.x >= margin && p.y >= margin && p.x <= S - 1 - margin && p.y <= S - 1 - margin;
    if (ok) break;
    z0 *= 1.08;
  }
  s.K = K;
  s.visible.assign(kHandJoints, 1.0f);
  s.source = "synthetic:" + std::to_string(seed);

  // Appearance: skin tone (or a glove), light, then the background (which may echo the skin).
  const double tone = uniform(rng, 0, 5);
  const int ti = static_cast<int>(tone);
  cv::Vec3d skin;
  for (int k = 0; k < 3; ++k)
    skin[k] = (kSkin[ti][k] + (tone - ti) * (kSkin[ti + 1][k] - kSkin[ti][k])) * uniform(rng, 0.94, 1.06);
  if (uniform_unit(rng) < 0.1) skin = cv::Vec3d(uniform(rng, 30, 255), uniform(rng, 30, 255), uniform(rng, 30, 255));
  const cv::Vec3d sleeve =
      uniform_unit(rng) < 0.4 ? cv::Vec3d(uniform(rng, 0, 255), uniform(rng, 0, 255), uniform(rng, 0, 255)) : skin;
  const cv::Vec3d light = cv::normalize(cv::Vec3d(uniform(rng, -1, 1), uniform(rng, -1, 1), -uniform(rng, 0.3, 1.5)));
  const double ambient = uniform(rng, 0.35, 0.6), gloss = uniform(rng, 0.1, 0.35);
  s.image = background(rng, image_size, skin);

  auto cam = [&](size_t i) { return cv::Point3d(q[i][0] + t[0], q[i][1] + t[1], q[i][2] + t[2]); };
  const double zmin = lo[2] + t[2], zrange = hi[2] - lo[2] + 1e-9;
  auto depth_shade = [&](double z) { return 1 - 0.35 * std::clamp((z - zmin) / zrange, 0.0, 1.5); };
  std::vector<Primitive> prims;
  auto add_limb = [&](const cv::Point3d& a, const cv::Point3d& b, double width_mm, const cv::Vec3d& colour) {
    const cv::Vec3d d = cv::normalize(cv::Vec3d(b - a));
    const double zmid = (a.z + b.z) / 2, lit = std::sqrt(std::max(0.0, 1 - std::pow(d.dot(light), 2)));
    const double shade = (ambient + (1 - ambient) * lit) * depth_shade(zmid);
    Primitive p{
        zmid, {project_point(K, a), project_point(K, b)}, std::max(1, cvRound(f * width_mm * scale / zmid)), {}, {},
        {}};
    p.colour = scaled(colour, shade);
    p.outline = scaled(colour, shade * 0.6);
    p.highlight = scaled(colour, shade) + gloss * (cv::Scalar::all(255) - scaled(colour, shade));
    prims.push_back(p);
  };
  {
    // Forearm: always drawn first (it meets the hand behind the palm), and shortened when it
    // points at the camera, where it would otherwise become a disc hiding the hand.
    const cv::Point3d a = cam(kHandJoints + 4), b = cam(kHandJoints + 5);
    const double keep = b.z >= 0.75 * a.z ? 1.0 : 0.25 * a.z / (a.z - b.z);
    add_limb(a, a + keep * (b - a), 56, sleeve);
    prims.back().depth = 1e300;
  }
  add_limb(cam(0), cam(1), 30, skin);  // thenar eminence
  for (int fi = 0; fi < 5; ++fi)
    for (int k = 0; k < 3; ++k)
      add_limb(cam(static_cast<size_t>(4 * fi + 1 + k)), cam(static_cast<size_t>(4 * fi + 2 + k)), kWidth[fi][k], skin);
  {
    Primitive palm;
    const size_t ids[] = {0, 1, 5, 9, 13, 17, kHandJoints, kHandJoints + 1, kHandJoints + 2, kHandJoints + 3};
    std::vector<cv::Point2f> pts;
    palm.depth = 0;
    for (size_t i : ids) {
      const cv::Point3d p = cam(i);
      pts.push_back(cv::Point2f(project_point(K, p)));
      palm.depth += p.z / std::size(ids);
    }
    std::vector<cv::Point2f> hull;
    cv::convexHull(pts, hull);
    for (const auto& h : hull) palm.poly.emplace_back(h.x, h.y);
    const cv::Vec3d normal = R * cv::Vec3d(0, 0, 1);
    palm.colour = scaled(skin, (ambient + (1 - ambient) * std::abs(normal.dot(light))) * depth_shade(palm.depth));
    prims.push_back(palm);
  }
  std::stable_sort(prims.begin(), prims.end(),
                   [](const Primitive& a, const Primitive& b) { return a.depth > b.depth; });

  const cv::Point2d to_light = cv::Point2d(light[0], light[1]) * (1 / (std::hypot(light[0], light[1]) + 1e-9));
  for (const auto& p : prims) {
    if (p.thickness == 0) {
      std::vector<cv::Point> poly;
      for (const auto& v : p.poly) poly.push_back(fixed(v));
      cv::fillPoly(s.image, std::vector<std::vector<cv::Point>>{poly}, p.colour, cv::LINE_AA, kShift);
      continue;
    }
    // A shaded cylinder: dark rim, body, highlight shifted towards the light.
    const cv::Point2d off = to_light * (0.2 * p.thickness);
    cv::line(s.image, fixed(p.poly[0]), fixed(p.poly[1]), p.outline, p.thickness, cv::LINE_AA, kShift);
    cv::line(s.image, fixed(p.poly[0]), fixed(p.poly[1]), p.colour, std::max(1, cvRound(0.75 * p.thickness)),
             cv::LINE_AA, kShift);
    if (p.thickness >= 4)
      cv::line(s.image, fixed(p.poly[0] + off), fixed(p.poly[1] + off), p.highlight,
               std::max(1, cvRound(0.25 * p.thickness)), cv::LINE_AA, kShift);
  }

  // Camera: colour cast, sensor noise, slight defocus.
  cv::multiply(s.image, cv::Scalar(uniform(rng, 0.85, 1.15), uniform(rng, 0.85, 1.15), uniform(rng, 0.85, 1.15)),
               s.image);
  const double noise_sigma = uniform(rng, 0, 8);
  if (noise_sigma > 2) {
    cv::Mat noise(s.image.size(), CV_16SC3);
    cv::RNG(rng()).fill(noise, cv::RNG::NORMAL, 0, noise_sigma);
    cv::add(s.image, noise, s.image, cv::noArray(), CV_8U);
  }
  const double blur = uniform(rng, 0, 1);
  if (blur > 0.6) cv::GaussianBlur(s.image, s.image, cv::Size(0, 0), blur);
  return s;
}

}  // namespace zoo
