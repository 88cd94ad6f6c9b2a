// Parity with torchvision 0.14's RegionProposalNetwork on the cases of
// tests/fixtures/rpn_golden.json (written by scripts/make_rpn_golden.py): anchors, matched
// indices and labels (identical), regression targets, head outputs at the sampled anchors, and
// the proposals with their scores and order in train and eval mode (1e-5). The losses of the
// same cases are checked in tests/losses/rpn_loss_test.cpp.
#include <gtest/gtest.h>
#include <torch/version.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/detection/rpn.h"

namespace zoo {
namespace {

using Json = nlohmann::json;

const Json& fixture() {
  static const Json doc = [] {
    std::ifstream in(std::string(ZOO_SOURCE_DIR) + "/tests/fixtures/rpn_golden.json");
    EXPECT_TRUE(in.good()) << "missing tests/fixtures/rpn_golden.json";
    return Json::parse(in);
  }();
  return doc;
}

const Json& golden_case(const std::string& name) {
  for (const auto& c : fixture()["cases"])
    if (c["name"] == name) return c;
  throw std::runtime_error("no golden case " + name);
}

torch::Tensor floats(const Json& values, std::vector<int64_t> shape = {-1}) {
  return torch::tensor(values.get<std::vector<double>>(), torch::kDouble)
      .to(torch::kFloat)
      .view(shape);
}
torch::Tensor longs(const Json& values) {
  return torch::tensor(values.get<std::vector<int64_t>>(), torch::kLong);
}
torch::Tensor shaped(const Json& t) {
  return floats(t["data"], t["shape"].get<std::vector<int64_t>>());
}

// Largest |a - b|, with a check that the shapes agree.
double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return 1e30;
  return a.numel() == 0 ? 0.0
                        : (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

RpnOptions options_of(const Json& c) {
  const auto& o = c["options"];
  RpnOptions r;
  r.in_channels = o["in_channels"];
  r.anchors.sizes = {o["sizes"].get<std::vector<double>>()};
  r.anchors.aspect_ratios = {o["aspect_ratios"].get<std::vector<double>>()};
  r.fg_iou_thresh = o["fg_iou_thresh"];
  r.bg_iou_thresh = o["bg_iou_thresh"];
  r.batch_size_per_image = o["batch_size_per_image"];
  r.positive_fraction = o["positive_fraction"];
  r.pre_nms_top_n_train = o["pre_nms_top_n_train"];
  r.pre_nms_top_n_test = o["pre_nms_top_n_test"];
  r.post_nms_top_n_train = o["post_nms_top_n_train"];
  r.post_nms_top_n_test = o["post_nms_top_n_test"];
  r.nms_thresh = o["nms_thresh"];
  r.score_thresh = o["score_thresh"];
  r.min_size = o["min_size"];
  return r;
}

struct Setup {
  RegionProposalNetwork rpn{nullptr};
  ImageSize padded;
  std::vector<ImageSize> sizes;
  torch::Tensor features;
  std::vector<torch::Tensor> gt;
};

Setup setup(const Json& c) {
  Setup s;
  s.rpn = RegionProposalNetwork(options_of(c));
  {
    torch::NoGradGuard no_grad;
    auto params = s.rpn->head->named_parameters();
    for (const auto& [name, t] : c["head"].items()) params[name].copy_(shaped(t));
    EXPECT_EQ(params.size(), c["head"].size());
  }
  s.padded = c["padded_size"].get<ImageSize>();
  s.sizes = c["image_sizes"].get<std::vector<ImageSize>>();
  s.features = shaped(c["features"]);
  for (const auto& image : c["gt_boxes"]) {
    std::vector<double> v;
    for (const auto& box : image)
      for (const auto& x : box) v.push_back(x);
    s.gt.push_back(floats(Json(v), {-1, 4}));
  }
  return s;
}

std::vector<SampledIndices> sample_of(const Json& c) {
  std::vector<SampledIndices> out;
  for (const auto& s : c["sample"]) out.push_back({longs(s["positive"]), longs(s["negative"])});
  return out;
}

void expect_proposals(const RpnOutput& out, const Json& ref, const std::string& what) {
  ASSERT_EQ(out.boxes.size(), ref["boxes"].size());
  for (size_t i = 0; i < out.boxes.size(); ++i) {
    const auto boxes = floats(ref["boxes"][i], {-1, 4});
    const auto scores = floats(ref["scores"][i]);
    ASSERT_EQ(out.boxes[i].size(0), boxes.size(0)) << what << " image " << i;
    // Same boxes in the same order, hence the same NMS decisions.
    EXPECT_LT(max_diff(out.boxes[i], boxes), 1e-5) << what << " image " << i;
    EXPECT_LT(max_diff(out.scores[i], scores), 1e-5) << what << " image " << i;
  }
}

void check_case(const std::string& name) {
  SCOPED_TRACE(name);
  const auto& c = golden_case(name);
  auto s = setup(c);
  s.rpn->train();
  const auto out = s.rpn->forward(s.padded, s.sizes, {s.features});

  // Anchors: exact.
  EXPECT_TRUE(torch::equal(out.anchors, shaped(c["anchors"])));
  const int64_t t = out.anchors.size(0);

  // Matching and targets with the recorded sample.
  const auto targets = s.rpn->training_targets(out, s.gt, sample_of(c));
  for (size_t i = 0; i < s.gt.size(); ++i) {
    const auto range = [&](const torch::Tensor& x) {
      return x.narrow(0, static_cast<int64_t>(i) * t, t);
    };
    EXPECT_TRUE(torch::equal(range(targets.labels), floats(c["labels"][i]))) << "labels " << i;
    const auto& matched = c["matched_idxs"][i];
    const auto expected_idx =
        matched.is_null() ? torch::full({t}, -1, torch::kLong) : longs(matched);
    EXPECT_TRUE(torch::equal(range(targets.matched_idxs), expected_idx)) << "matched " << i;
    if (!c["regression_targets"][i].is_null()) {
      EXPECT_LT(
          max_diff(range(targets.regression_targets), floats(c["regression_targets"][i], {-1, 4})),
          1e-5)
          << "regression targets " << i;
    }
  }

  // The head's outputs at the sampled rows (what the loss sees), in compute_loss's order.
  const auto rows = torch::cat({targets.sampled_positive, targets.sampled_negative});
  const auto& sampled = c["sampled"];
  EXPECT_EQ(targets.sampled_positive.numel(), sampled["num_positive"].get<int64_t>());
  EXPECT_LT(max_diff(out.objectness.index({rows}), floats(sampled["objectness"])), 1e-5);
  EXPECT_LT(max_diff(out.pred_deltas.index({rows}), floats(sampled["deltas"], {-1, 4})), 1e-5);
  EXPECT_TRUE(torch::equal(targets.labels.index({rows}), floats(sampled["labels"])));
  EXPECT_LT(max_diff(targets.regression_targets.index({targets.sampled_positive}),
                     floats(sampled["regression_targets"], {-1, 4})),
            1e-5);

  expect_proposals(out, c["train_proposals"], "train");
  s.rpn->eval();
  torch::NoGradGuard no_grad;
  expect_proposals(s.rpn->forward(s.padded, s.sizes, {s.features}), c["eval_proposals"], "eval");
}

TEST(RpnGolden, PaddedBatchWithTiesTinyBorderAndEmptyImage) { check_case("batch"); }

TEST(RpnGolden, TorchvisionDefaultParameters) { check_case("defaults"); }

TEST(RpnGolden, SeededSamplerDrawsWhatTorchvisionDraws) {
  // torchvision's sampler after torch.manual_seed(seed) in Python; the same randperm calls on
  // the same CPU generator pick the same anchors, as long as LibTorch is the release that wrote
  // the fixture (randperm's algorithm is not a stable interface across releases).
  const std::string ours =
      std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + ".";
  const auto fixture_torch = fixture()["torch"].get<std::string>();
  if (fixture_torch.rfind(ours, 0) != 0)
    GTEST_SKIP() << "fixture written by torch " << fixture_torch << ", LibTorch is " << ours;
  const Json c = golden_case("defaults");  // a copy: GCC 14 -Wdangling-reference on `auto&`
  auto s = setup(c);
  s.rpn->train();
  const auto out = s.rpn->forward(s.padded, s.sizes, {s.features});
  torch::manual_seed(c["sampler_seed"].get<uint64_t>());
  const auto targets = s.rpn->training_targets(out, s.gt);
  const auto fixed = s.rpn->training_targets(out, s.gt, sample_of(c));
  EXPECT_TRUE(torch::equal(targets.sampled_positive, fixed.sampled_positive));
  EXPECT_TRUE(torch::equal(targets.sampled_negative, fixed.sampled_negative));
}

}  // namespace
}  // namespace zoo
