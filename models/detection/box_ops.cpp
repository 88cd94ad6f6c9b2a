#include "models/detection/box_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace zoo {
namespace {

void check_boxes(const torch::Tensor& boxes, const char* what) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, what, ": boxes must be [N, 4], got ",
              boxes.sizes());
}

// The largest T not above `threshold`. For every T value x, `x > threshold` compared in double
// (as torchvision's kernel compares its float IoU with the double threshold) holds exactly when
// `x > threshold_below(threshold)` in T, so the inner loop never converts.
template <typename T>
T threshold_below(double threshold) {
  T t = static_cast<T>(threshold);
  if (static_cast<double>(t) > threshold)
    t = std::nextafter(t, -std::numeric_limits<T>::infinity());
  return t;
}

// Greedy suppression over boxes visited in `order`, as torchvision's CPU nms kernel: areas,
// intersections and the IoU in the boxes' own precision with the same expressions, suppress
// when IoU > threshold. With kCategories only boxes of the same category suppress each other.
// Everything is indexed by rank (position in `order`) and the inner loop is branch-free over
// contiguous arrays so that it vectorises; int32 flags cannot alias the coordinates.
template <typename T, bool kCategories>
std::vector<int64_t> greedy_nms(const torch::Tensor& boxes, const torch::Tensor& order,
                                const int64_t* category, double iou_threshold) {
  const int64_t n = order.size(0);
  const auto b = boxes.accessor<T, 2>();
  const auto o = order.accessor<int64_t, 1>();
  std::vector<T> x1(n), y1(n), x2(n), y2(n), area(n);
  // int32 categories and flags: lanes as wide as float's, so that the inner loop vectorises.
  std::vector<int32_t> cat(kCategories ? n : 0);
  for (int64_t r = 0; r < n; ++r) {
    const int64_t i = o[r];
    x1[r] = b[i][0];
    y1[r] = b[i][1];
    x2[r] = b[i][2];
    y2[r] = b[i][3];
    area[r] = (x2[r] - x1[r]) * (y2[r] - y1[r]);
    if constexpr (kCategories) cat[r] = static_cast<int32_t>(category[i]);
  }
  const T threshold = threshold_below<T>(iou_threshold);
  std::vector<int32_t> suppressed(n, 0);
  std::vector<int64_t> keep;
  for (int64_t r = 0; r < n; ++r) {
    if (suppressed[r]) continue;
    keep.push_back(o[r]);
    const T rx1 = x1[r], ry1 = y1[r], rx2 = x2[r], ry2 = y2[r], rarea = area[r];
    const T* __restrict px1 = x1.data();
    const T* __restrict py1 = y1.data();
    const T* __restrict px2 = x2.data();
    const T* __restrict py2 = y2.data();
    const T* __restrict parea = area.data();
    const int32_t* __restrict pcat = cat.data();
    int32_t* __restrict psup = suppressed.data();
    const int32_t rcat = kCategories ? cat[r] : 0;
    for (int64_t s = r + 1; s < n; ++s) {
      const T w = std::max(T(0), std::min(rx2, px2[s]) - std::max(rx1, px1[s]));
      const T h = std::max(T(0), std::min(ry2, py2[s]) - std::max(ry1, py1[s]));
      const T inter = w * h;
      const T iou = inter / (rarea + parea[s] - inter);
      int32_t hit = iou > threshold;  // NaN (two empty boxes) never suppresses
      if constexpr (kCategories) hit &= static_cast<int32_t>(pcat[s] == rcat);
      psup[s] |= hit;
    }
  }
  return keep;
}

template <typename T>
std::vector<int64_t> greedy_nms(const torch::Tensor& boxes, const torch::Tensor& order,
                                const int64_t* category, double iou_threshold) {
  return category ? greedy_nms<T, true>(boxes, order, category, iou_threshold)
                  : greedy_nms<T, false>(boxes, order, category, iou_threshold);
}

torch::Tensor nms_impl(const torch::Tensor& boxes, const torch::Tensor& scores,
                       const torch::Tensor& idxs, double iou_threshold, const char* what) {
  check_boxes(boxes, what);
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), what,
              ": scores must be [N] with N = ", boxes.size(0), ", got ", scores.sizes());
  const auto long_on_input = boxes.options().dtype(torch::kLong);
  if (boxes.size(0) == 0) return torch::empty({0}, long_on_input);

  // float and double as torchvision's kernel; other floating types are computed in float.
  const auto dtype = boxes.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  const auto cpu_boxes = boxes.detach().to(torch::kCPU, dtype).contiguous();
  const auto cpu_scores = scores.detach().to(torch::kCPU, dtype);
  const auto order = std::get<1>(cpu_scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  torch::Tensor cpu_idxs;
  if (idxs.defined()) {
    TORCH_CHECK(idxs.dim() == 1 && idxs.size(0) == boxes.size(0), what,
                ": idxs must be [N] with N = ", boxes.size(0), ", got ", idxs.sizes());
    cpu_idxs = idxs.detach().to(torch::kCPU, torch::kLong).contiguous();
    TORCH_CHECK(cpu_idxs.numel() == 0 || (cpu_idxs.min().item<int64_t>() >= std::numeric_limits<int32_t>::min() &&
                                          cpu_idxs.max().item<int64_t>() <= std::numeric_limits<int32_t>::max()),
                what, ": category ids must fit in 32 bits");
  }
  const int64_t* category = idxs.defined() ? cpu_idxs.data_ptr<int64_t>() : nullptr;
  std::vector<int64_t> keep = dtype == torch::kDouble
                                  ? greedy_nms<double>(cpu_boxes, order, category, iou_threshold)
                                  : greedy_nms<float>(cpu_boxes, order, category, iou_threshold);
  return torch::tensor(keep, torch::kLong).to(boxes.device());
}

}  // namespace

torch::Tensor box_area(const torch::Tensor& boxes) {
  check_boxes(boxes, "box_area");
  return (boxes.select(1, 2) - boxes.select(1, 0)) * (boxes.select(1, 3) - boxes.select(1, 1));
}

torch::Tensor box_iou(const torch::Tensor& boxes1, const torch::Tensor& boxes2) {
  using torch::indexing::None;
  using torch::indexing::Slice;
  const auto area1 = box_area(boxes1);
  const auto area2 = box_area(boxes2);
  const auto lt = torch::max(boxes1.index({Slice(), None, Slice(None, 2)}),
                             boxes2.index({Slice(), Slice(None, 2)}));
  const auto rb = torch::min(boxes1.index({Slice(), None, Slice(2, None)}),
                             boxes2.index({Slice(), Slice(2, None)}));
  const auto wh = (rb - lt).clamp_min(0);
  const auto inter = wh.select(2, 0) * wh.select(2, 1);
  const auto uni = area1.unsqueeze(1) + area2 - inter;
  return inter / uni;
}

torch::Tensor clip_boxes_to_image(const torch::Tensor& boxes, int64_t height, int64_t width) {
  TORCH_CHECK(boxes.dim() >= 1 && boxes.size(-1) == 4,
              "clip_boxes_to_image: boxes must be [..., 4], got ", boxes.sizes());
  using torch::indexing::Ellipsis;
  using torch::indexing::None;
  using torch::indexing::Slice;
  const auto x = boxes.index({Ellipsis, Slice(0, None, 2)}).clamp(0, width);
  const auto y = boxes.index({Ellipsis, Slice(1, None, 2)}).clamp(0, height);
  return torch::stack({x, y}, boxes.dim()).reshape(boxes.sizes());
}

torch::Tensor remove_small_boxes(const torch::Tensor& boxes, double min_size) {
  check_boxes(boxes, "remove_small_boxes");
  const auto ws = boxes.select(1, 2) - boxes.select(1, 0);
  const auto hs = boxes.select(1, 3) - boxes.select(1, 1);
  return torch::nonzero((ws >= min_size) & (hs >= min_size)).squeeze(1);
}

torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold) {
  return nms_impl(boxes, scores, {}, iou_threshold, "nms");
}

torch::Tensor batched_nms(const torch::Tensor& boxes, const torch::Tensor& scores,
                          const torch::Tensor& idxs, double iou_threshold) {
  TORCH_CHECK(idxs.defined(), "batched_nms: idxs must be defined");
  return nms_impl(boxes, scores, idxs, iou_threshold, "batched_nms");
}

}  // namespace zoo
