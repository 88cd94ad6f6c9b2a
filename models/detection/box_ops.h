#pragma once
// Box utilities of the detection models, torchvision 0.14 semantics (torchvision/ops/boxes.py;
// spec §5.4 and §5.7). Boxes are [N, 4] (x1, y1, x2, y2) in pixels, continuous coordinates:
// width = x2 - x1, no "+1".
//
// LibTorch has no NMS operator (torchvision's lives in its own C++ extension), so nms and
// batched_nms are written here by hand. They reproduce torchvision's CPU kernel: order by score
// descending with a *stable* sort (equal scores keep their input order), then greedy
// suppression of every later box whose IoU with a kept box is strictly greater than the
// threshold. Identical boxes have IoU 1 and suppress each other; IoU == threshold survives.
#include <torch/torch.h>

namespace zoo {

// [N] areas (x2 - x1) * (y2 - y1).
torch::Tensor box_area(const torch::Tensor& boxes);

// [N, M] IoU between boxes1 [N, 4] and boxes2 [M, 4], computed with the same tensor expression
// as torchvision (bitwise-equal results in float32).
torch::Tensor box_iou(const torch::Tensor& boxes1, const torch::Tensor& boxes2);

// Clamps x to [0, width] and y to [0, height]; boxes [..., 4].
torch::Tensor clip_boxes_to_image(const torch::Tensor& boxes, int64_t height, int64_t width);

// int64 indices (ascending) of the boxes whose width and height are both >= min_size.
torch::Tensor remove_small_boxes(const torch::Tensor& boxes, double min_size);

// int64 indices of the kept boxes, by decreasing score (ties: lower index first). boxes [N, 4],
// scores [N], same floating dtype. Runs on the CPU (a copy for other devices); the result is
// on the input device.
torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold);

// NMS within each category of idxs [N] (integer); boxes of different categories never suppress
// each other. Same order as nms. torchvision gets the same kept set either by offsetting each
// category's coordinates (<= 1000 boxes on CPU) or by one nms per category followed by an
// unstable re-sort (> 1000 boxes): the two can differ from this exact per-category version
// only through rounding of the offset coordinates and the order of equal scores.
torch::Tensor batched_nms(const torch::Tensor& boxes, const torch::Tensor& scores,
                          const torch::Tensor& idxs, double iou_threshold);

}  // namespace zoo
