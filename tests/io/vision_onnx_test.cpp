// ONNX exports of the image models (io/formats/keypoint_onnx.h, heatmap_onnx.h, rpn_onnx.h)
// against their TorchScript, at batch 1 and 3 and two image sizes.
#include "io/formats/heatmap_onnx.h"
#include "io/formats/heatmap_script.h"
#include "io/formats/keypoint_onnx.h"
#include "io/formats/keypoint_script.h"
#include "io/formats/rpn_onnx.h"
#include "io/formats/rpn_script.h"

#include "tests/io/onnx_parity.h"

namespace zoo {
namespace {

using onnx_parity::Case;
using onnx_parity::OnnxExportTest;

// Every parameter and running statistic away from its init, at the init's scale: vectors
// (BatchNorm affine, biases) shifted, filters scaled by 1 +- 10 %, so activations stay of order
// one through the ResNet (an additive 0.1 on every filter weight grows them to ~1e3, where
// float32 rounding alone exceeds 1e-4).
void perturb_with_statistics(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) {
    if (p.dim() == 1)
      p.add_(torch::randn_like(p) * 0.1);
    else
      p.mul_(1.0 + torch::randn_like(p) * 0.1);
  }
  for (auto& b : model.named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) b.value().normal_(0.0, 0.1);
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 1.5);
  }
  model.eval();
}

// Batch 1 and 3 at two image sizes, one of them not square.
std::vector<Case> image_cases(const std::vector<std::pair<int64_t, int64_t>>& sizes) {
  std::vector<Case> cases;
  for (const auto& [h, w] : sizes)
    for (const int64_t batch : {1, 3}) cases.push_back({{"images", torch::randn({batch, 3, h, w})}});
  return cases;
}

class KeypointsOnnxTest : public OnnxExportTest, public ::testing::WithParamInterface<int64_t> {};

TEST_P(KeypointsOnnxTest, OnnxRuntimeMatchesTorchScript) {
  KeypointRegressorOptions o;
  o.backbone.base_width = 8;  // small, but every stage and downsample path of resnet18
  o.coord_dims = GetParam();
  torch::manual_seed(13);
  KeypointRegressor model(o);
  perturb_with_statistics(*model);
  export_keypoints_torchscript(*model, path("model.pt"));
  export_keypoints_onnx(*model, path("model.onnx"));
  expect_onnx_matches_torchscript(image_cases({{64, 64}, {96, 80}}));
}

INSTANTIATE_TEST_SUITE_P(CoordDims, KeypointsOnnxTest, ::testing::Values(2, 3),
                         [](const ::testing::TestParamInfo<int64_t>& info) { return "D" + std::to_string(info.param); });

struct HeatmapVariant {
  std::string name, decoder, head;
};

class HeatmapOnnxTest : public OnnxExportTest, public ::testing::WithParamInterface<HeatmapVariant> {};

TEST_P(HeatmapOnnxTest, OnnxRuntimeMatchesTorchScript) {
  HeatmapKeypointsOptions o;
  o.net.encoder_channels = {8, 16, 16};
  o.net.decoder_channels = {16, 8};
  o.net.decoder = GetParam().decoder;
  o.head = GetParam().head;
  torch::manual_seed(14);
  HeatmapKeypointModel model(o);
  perturb_with_statistics(*model);
  export_heatmap_torchscript(*model, path("model.pt"));
  export_heatmap_onnx(*model, path("model.onnx"));
  expect_onnx_matches_torchscript(image_cases({{32, 32}, {48, 40}}));
}

INSTANTIATE_TEST_SUITE_P(Variants, HeatmapOnnxTest,
                         ::testing::Values(HeatmapVariant{"DeconvSoftArgmax", "deconv", "soft_argmax"},
                                           HeatmapVariant{"UpsamplePerAxis", "upsample", "per_axis"}),
                         [](const ::testing::TestParamInfo<HeatmapVariant>& info) { return info.param.name; });

// The proposal network with its post-processing: per-image clipping sizes smaller than the padded
// batch, small top-n values so the top-k, NMS and the zero-padded packing all cut.
TEST_F(OnnxExportTest, RpnOnnxRuntimeMatchesTorchScript) {
  ResNetOptions b;
  b.base_width = 8;
  b.num_stages = 2;  // stride 8
  torch::manual_seed(15);
  ResNet backbone(b);
  RpnOptions r;
  r.in_channels = backbone->out_channels();
  r.anchors.sizes = {{16.0, 32.0}};
  r.pre_nms_top_n_test = 60;
  r.post_nms_top_n_test = 20;
  r.score_thresh = 0.3;
  RegionProposalNetwork rpn(r);
  perturb_with_statistics(*backbone);
  perturb_with_statistics(*rpn);
  rpn->eval();
  export_rpn_torchscript(*backbone, *rpn, path("model.pt"));
  export_rpn_onnx(*backbone, *rpn, path("model.onnx"));
  std::vector<Case> cases;
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{64, 64}, {96, 80}})
    for (const int64_t batch : {1, 3}) {
      auto sizes = torch::tensor({h, w}, torch::kLong).repeat({batch, 1});
      if (batch > 1) {
        sizes[1] = torch::tensor({h - 20, w - 8});
        sizes[2] = torch::tensor({h / 2, w});
      }
      cases.push_back({{"images", torch::randn({batch, 3, h, w})}, {"image_sizes", sizes}});
    }
  expect_onnx_matches_torchscript(cases);
}

}  // namespace
}  // namespace zoo
