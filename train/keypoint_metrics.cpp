#include "train/keypoint_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "train/plot.h"

namespace zoo {
namespace {

// numpy.median of a sorted, non-empty list: the middle value, or the mean of the middle two.
double median_of_sorted(const std::vector<double>& v) {
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

// Mean of the non-NaN entries (keypoints without data are NaN and skipped); NaN if none.
double mean_finite(const std::vector<double>& v) {
  double sum = 0;
  int64_t n = 0;
  for (double x : v) {
    if (std::isnan(x)) continue;
    sum += x;
    ++n;
  }
  return n ? sum / static_cast<double>(n) : NAN;
}

// [K, D] or [B, K, D] -> CPU double [B, K, D]; visible -> CPU bool [B, K] (all true if undefined).
std::pair<torch::Tensor, torch::Tensor> batched(const torch::Tensor& x, const torch::Tensor& vis,
                                                int64_t dims, int64_t num_keypoints) {
  TORCH_CHECK((x.dim() == 2 || x.dim() == 3) && x.size(-1) == dims && x.size(-2) == num_keypoints,
              "KeypointMetrics: expected [K, ", dims, "] or [B, K, ", dims, "] with K = ",
              num_keypoints, ", got ", x.sizes());
  auto xs = x.detach().to(torch::kCPU, torch::kDouble).reshape({-1, num_keypoints, dims});
  torch::Tensor v = vis.defined() ? vis.detach().to(torch::kCPU).reshape({-1, num_keypoints}) > 0
                                  : torch::ones({xs.size(0), num_keypoints}, torch::kBool);
  TORCH_CHECK(v.size(0) == xs.size(0), "KeypointMetrics: visible has ", v.size(0),
              " samples, coordinates ", xs.size(0));
  return {xs, v};
}

// Distances of visible keypoints into their lists.
void add_distances(KeypointDistances& lists, const torch::Tensor& gt, const torch::Tensor& pred,
                   const torch::Tensor& visible) {
  const auto d = (gt - pred).norm(2, -1).contiguous();
  const auto da = d.accessor<double, 1>();
  const auto va = visible.accessor<bool, 1>();
  for (int64_t k = 0; k < d.size(0); ++k)
    if (va[k]) lists.add(k, da[k]);
}

}  // namespace

KeypointDistances::KeypointDistances(int64_t num_keypoints) {
  TORCH_CHECK(num_keypoints > 0, "KeypointDistances: num_keypoints must be > 0");
  lists_.resize(static_cast<size_t>(num_keypoints));
}

void KeypointDistances::add(int64_t keypoint, double distance) {
  TORCH_CHECK(keypoint >= 0 && keypoint < num_keypoints(), "KeypointDistances: no keypoint ",
              keypoint);
  lists_[static_cast<size_t>(keypoint)].push_back(distance);
}

void KeypointDistances::clear() {
  for (auto& l : lists_) l.clear();
}

KeypointMeasures KeypointDistances::measures(const PckOptions& pck) const {
  TORCH_CHECK(pck.steps >= 2 && pck.max > pck.min, "PckOptions: need steps >= 2 and max > min");
  KeypointMeasures m;
  // numpy.linspace: start + i * step, with the end point exact.
  const double step = (pck.max - pck.min) / static_cast<double>(pck.steps - 1);
  for (int64_t i = 0; i < pck.steps; ++i)
    m.thresholds.push_back(i + 1 == pck.steps ? pck.max : pck.min + static_cast<double>(i) * step);
  const auto& t = m.thresholds;
  std::vector<double> pck_sum(t.size(), 0.0);
  int64_t with_data = 0;
  for (const auto& list : lists_) {
    if (list.empty()) {
      m.per_keypoint_mean.push_back(NAN);
      m.per_keypoint_median.push_back(NAN);
      m.per_keypoint_auc.push_back(NAN);
      continue;
    }
    ++with_data;
    m.count += static_cast<int64_t>(list.size());
    std::vector<double> sorted = list;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double d : sorted) sum += d;
    m.per_keypoint_mean.push_back(sum / static_cast<double>(sorted.size()));
    m.per_keypoint_median.push_back(median_of_sorted(sorted));
    // PCK_k(t) = fraction of d <= t (inclusive: upper_bound counts the ties), then trapz.
    std::vector<double> curve(t.size());
    for (size_t i = 0; i < t.size(); ++i) {
      const auto below = std::upper_bound(sorted.begin(), sorted.end(), t[i]) - sorted.begin();
      curve[i] = static_cast<double>(below) / static_cast<double>(sorted.size());
      pck_sum[i] += curve[i];
    }
    double area = 0;
    for (size_t i = 1; i < t.size(); ++i) area += (t[i] - t[i - 1]) * (curve[i] + curve[i - 1]) / 2;
    m.per_keypoint_auc.push_back(area / (t.back() - t.front()));
  }
  for (double s : pck_sum) m.pck.push_back(with_data ? s / static_cast<double>(with_data) : NAN);
  m.mean = mean_finite(m.per_keypoint_mean);
  m.median = mean_finite(m.per_keypoint_median);
  m.auc = mean_finite(m.per_keypoint_auc);
  return m;
}

KeypointMetrics::KeypointMetrics(const KeypointEvalOptions& options)
    : options_(options),
      xyz_(options.num_keypoints),
      xyz_aligned_(options.num_keypoints),
      uv_(options.num_keypoints) {}

void KeypointMetrics::feed(const torch::Tensor& gt, const torch::Tensor& pred,
                           const torch::Tensor& visible) {
  const auto [g, vis] = batched(gt, visible, 3, options_.num_keypoints);
  const auto p = batched(pred, {}, 3, options_.num_keypoints).first;
  TORCH_CHECK(p.size(0) == g.size(0), "KeypointMetrics: gt and pred batch sizes differ");
  for (int64_t b = 0; b < g.size(0); ++b) {
    add_distances(xyz_, g[b], p[b], vis[b]);
    if (!vis[b].any().item<bool>()) continue;
    add_distances(xyz_aligned_, g[b], procrustes_align(g[b], p[b], vis[b]), vis[b]);
  }
}

void KeypointMetrics::feed_2d(const torch::Tensor& gt, const torch::Tensor& pred,
                              const torch::Tensor& visible) {
  const auto [g, vis] = batched(gt, visible, 2, options_.num_keypoints);
  const auto p = batched(pred, {}, 2, options_.num_keypoints).first;
  TORCH_CHECK(p.size(0) == g.size(0), "KeypointMetrics: gt and pred batch sizes differ");
  for (int64_t b = 0; b < g.size(0); ++b) add_distances(uv_, g[b], p[b], vis[b]);
}

KeypointEvalSummary KeypointMetrics::summary() const {
  return {xyz_.measures(options_.pck_3d), xyz_aligned_.measures(options_.pck_3d),
          uv_.measures(options_.pck_2d)};
}

void KeypointMetrics::reset() {
  xyz_.clear();
  xyz_aligned_.clear();
  uv_.clear();
}

torch::Tensor procrustes_align(const torch::Tensor& gt, const torch::Tensor& pred,
                               const torch::Tensor& fit_mask) {
  TORCH_CHECK(gt.dim() == 2 && gt.sizes() == pred.sizes(),
              "procrustes_align: gt and pred must both be [N, D], got ", gt.sizes(), " and ",
              pred.sizes());
  const auto g = gt.to(torch::kDouble), p = pred.to(torch::kDouble);
  torch::Tensor gf = g, pf = p;
  if (fit_mask.defined()) {
    const auto keep = fit_mask.to(g.device()).reshape({-1}) > 0;
    gf = g.index({keep});
    pf = p.index({keep});
  }
  TORCH_CHECK(gf.size(0) > 0, "procrustes_align: no point to fit on");
  const auto t1 = gf.mean(0, /*keepdim=*/true), t2 = pf.mean(0, /*keepdim=*/true);
  const auto gc = gf - t1, pc = pf - t2;
  const auto s1 = gc.norm() + 1e-8, s2 = pc.norm() + 1e-8;
  // scipy orthogonal_procrustes(gt_n, pred_n): R minimises |gt_n R - pred_n|_F.
  const auto [u, sv, vh] = torch::linalg_svd((gc / s1).t().mm(pc / s2), /*full_matrices=*/false);
  const auto rotation = u.mm(vh);
  const auto scale = sv.sum();
  return ((p - t2) / s2).mm(rotation.t()) * scale * s1 + t1;
}

void write_pck_plot(const std::string& path, const KeypointEvalSummary& summary, bool image_plane) {
  std::vector<Series> series;
  const auto add = [&](const std::string& name, const KeypointMeasures& m) {
    if (m.count == 0) return;
    char label[96];
    std::snprintf(label, sizeof label, "%s (AUC %.3f, mean %.2f)", name.c_str(), m.auc, m.mean);
    series.push_back({label, m.thresholds, m.pck});
  };
  if (image_plane) {
    add("2D", summary.uv);
  } else {
    add("3D", summary.xyz);
    add("3D Procrustes-aligned", summary.xyz_aligned);
  }
  write_line_plot(path, "PCK", image_plane ? "error threshold (px)" : "error threshold (mm)",
                  series);
}

}  // namespace zoo
