#pragma once
// Deterministic synthetic hands with exact labels: quickstarts, tests and pre-training without a
// download. Not photo-realistic; the point is exact, varied 3D labels and a picture that carries
// the pose (skin-coloured limbs, shading by depth and light, occlusion by depth order).
//
// Model (right hand; hand frame x = radial/thumb side, y = distal, z = palmar, origin at the
// wrist, millimetres at scale 1):
//   * rigid palm: wrist, thumb base (joint 1) and the four finger MCPs at fixed positions
//     (adult proportions: wrist -> middle MCP 83 mm, middle finger 83 + 45 + 28 + 24 mm);
//   * fingers: MCP flexion -20..90 deg, PIP 0..110, DIP 0..80 (coupled to PIP as in real
//     hands), abduction at the MCP within about +-12 deg of the resting fan;
//   * thumb: CMC with its own opposition axis (in-plane angle, palmar lift and axial roll move
//     together with the amount of opposition), then MCP 0..60 and IP -10..80 deg flexion;
//   * every bone keeps its length whatever the articulation; the whole hand is scaled by one
//     factor in [0.85, 1.15];
//   * a random global rotation (palm or back towards the camera, tilts up to +-70 deg, any
//     in-plane roll), placed in front of a pinhole camera (fx = fy in [1.4, 2.2] x image size,
//     principal point at the image centre) so that the joints span 45-80 % of the image and all
//     lie at least 4 % of the size inside it.
// Rendering (OpenCV only): random gradient/shape/noise background, forearm, palm polygon and
// limbs as shaded thick anti-aliased lines drawn back to front by depth, random skin tone or
// glove colour, light direction, colour cast, sensor noise and blur.
#include <array>
#include <cstdint>

#include "data/hand_sample.h"

namespace zoo {

// A pure function of (seed, image_size): a BGR image_size x image_size image, its K, 21 joints
// in camera coordinates (mm), uv = project(K, xyz) exactly, all visible (self-occlusion is not
// labelled), source "synthetic:<seed>". image_size >= 32 (std::invalid_argument otherwise).
HandSample synthetic_hand(uint64_t seed, int image_size);

// Length (mm, scale 1) of the bone ending at each joint (index 0, the wrist, is 0). A generated
// hand's bone lengths are these times its scale, for every articulation.
std::array<double, kHandJoints> synthetic_hand_bone_lengths_mm();

}  // namespace zoo
