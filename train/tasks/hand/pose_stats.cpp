#include "train/tasks/hand/pose_stats.h"

namespace zoo {

Json PoseStats::to_json() const {
  const auto rows = [](const torch::Tensor& t) {
    Json out = Json::array();
    const auto c = t.to(torch::kDouble).contiguous();
    for (int64_t i = 0; i < c.size(0); ++i) {
      Json row = Json::array();
      for (int64_t k = 0; k < c.size(1); ++k) row.push_back(c[i][k].item<double>());
      out.push_back(row);
    }
    return out;
  };
  return {{"mean_pose_xyz", rows(mean_xyz)},
          {"mean_pose_uv", rows(mean_uv)},
          {"scale_mm", scale_mm},
          {"focal_per_size", focal_per_size},
          {"extent", extent},
          {"samples", samples}};
}

PoseStats PoseStats::from_json(const Json& j) {
  const auto tensor = [](const Json& rows) {
    std::vector<double> v;
    for (const auto& row : rows)
      for (const auto& x : row) v.push_back(x.get<double>());
    const auto n = static_cast<int64_t>(rows.size());
    return torch::tensor(v, torch::kDouble).view({n, -1}).to(torch::kFloat32);
  };
  PoseStats s;
  s.mean_xyz = tensor(j.at("mean_pose_xyz"));
  s.mean_uv = tensor(j.at("mean_pose_uv"));
  s.scale_mm = j.at("scale_mm").get<double>();
  s.focal_per_size = j.at("focal_per_size").get<double>();
  s.extent = j.at("extent").get<double>();
  s.samples = j.at("samples").get<int64_t>();
  return s;
}

PoseStats pose_stats_of(const std::vector<Batch>& batches, int image_size) {
  PoseStats s;
  torch::Tensor xyz_sum = torch::zeros({kHandJoints, 3}, torch::kDouble);
  torch::Tensor uv_sum = torch::zeros({kHandJoints, 2}, torch::kDouble);
  double scale = 0, focal = 0, extent = 0;
  int64_t n = 0;
  for (const Batch& b : batches) {
    n += b.at("xyz").size(0);
    xyz_sum += b.at("xyz").to(torch::kDouble).sum(0);
    uv_sum += b.at("uv").to(torch::kDouble).sum(0);
    scale += b.at("scale_mm").to(torch::kDouble).sum().item<double>();
    const auto K = b.at("K").to(torch::kDouble);
    focal += (K.select(1, 0).select(1, 0) + K.select(1, 1).select(1, 1)).sum().item<double>() / 2 / image_size;
    // The joints' 2D box in normalised coordinates spans 2: half the larger side is the fraction.
    const auto uv = b.at("uv").to(torch::kDouble);
    const auto span = (std::get<0>(uv.max(1)) - std::get<0>(uv.min(1))).amax(1) / 2;
    extent += span.sum().item<double>();
  }
  const double dn = static_cast<double>(n);
  s.mean_xyz = (xyz_sum / dn).to(torch::kFloat32);
  s.mean_uv = (uv_sum / dn).to(torch::kFloat32);
  s.scale_mm = scale / dn;
  s.focal_per_size = focal / dn;
  s.extent = extent / dn;
  s.samples = n;
  return s;
}

}  // namespace zoo
