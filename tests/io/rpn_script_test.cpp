// The TorchScript proposal post-processing (rpn_proposal_script) gives what the C++
// RegionProposalNetwork gives: the same anchors and NMS, the same per-image proposals and scores
// up to float rounding, on one and on two anchor levels, in eval and train mode, also after a
// save/load round trip.
#include "io/formats/rpn_script.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <sstream>
#include <vector>

#include "models/detection/box_ops.h"

namespace zoo {
namespace {

torch::jit::Module scripted(const RpnOptions& o, bool training) {
  torch::jit::Module m("__torch__.RpnPostprocess");
  m.define(rpn_proposal_script(o, training));
  return m;
}

void expect_same_as_cpp(const RpnOptions& o, const ImageSize& padded,
                        const std::vector<ImageSize>& sizes,
                        const std::vector<torch::Tensor>& features, bool training,
                        bool round_trip) {
  torch::manual_seed(5);
  RegionProposalNetwork rpn(o);
  {
    torch::NoGradGuard no_grad;  // livelier than the 0.01 init: more overlap for NMS to remove
    for (auto& p : rpn->parameters()) p.normal_(0.0, 0.1);
  }
  rpn->train(training);
  torch::NoGradGuard no_grad;
  const auto out = rpn->forward(padded, sizes, features);
  std::vector<torch::jit::Module> modules{scripted(o, training)};
  if (round_trip) {
    std::ostringstream bytes;
    modules[0].save(bytes);
    std::istringstream in(bytes.str());
    modules.push_back(torch::jit::load(in));
  }
  for (auto& module : modules) {
    const auto anchors =
        module
            .run_method("rpn_anchors", std::vector<int64_t>(padded.begin(), padded.end()), features)
            .toTensor();
    EXPECT_TRUE(torch::equal(anchors, out.anchors));
    const int64_t t = out.anchors.size(0);
    for (size_t i = 0; i < sizes.size(); ++i) {
      const auto r =
          module
              .run_method("rpn_proposals", out.objectness.narrow(0, static_cast<int64_t>(i) * t, t),
                          out.pred_deltas.narrow(0, static_cast<int64_t>(i) * t, t), out.anchors,
                          std::vector<int64_t>(sizes[i].begin(), sizes[i].end()),
                          out.num_anchors_per_level)
              .toTuple();
      const auto boxes = r->elements()[0].toTensor(), scores = r->elements()[1].toTensor();
      ASSERT_GT(boxes.size(0), 0);
      // The same proposals in the same order, equal to the last bit or two: the script decodes
      // and takes sigmoids image by image, the module over the whole batch, and LibTorch 2.x's
      // vectorised kernels round an element differently depending on where it falls in the
      // tensor (SIMD lanes or the scalar tail). Seen on 2.6: 1 ulp (3e-5 px boxes, 3e-8 scores)
      // on the second image only.
      ASSERT_EQ(boxes.sizes(), out.boxes[i].sizes()) << "image " << i;
      EXPECT_TRUE(torch::allclose(boxes, out.boxes[i], /*rtol=*/1e-6, /*atol=*/1e-4)) << "image " << i;
      EXPECT_TRUE(torch::allclose(scores, out.scores[i], /*rtol=*/1e-6, /*atol=*/1e-7)) << "image " << i;
    }
  }
}

TEST(RpnScript, SingleLevelDefaultsEvalAndTrain) {
  RpnOptions o;
  o.in_channels = 8;
  torch::manual_seed(1);
  const auto features = torch::randn({2, 8, 6, 8});
  expect_same_as_cpp(o, {96, 128}, {{96, 128}, {80, 100}}, {features}, false, true);
  expect_same_as_cpp(o, {96, 128}, {{96, 128}, {80, 100}}, {features}, true, false);
}

TEST(RpnScript, TwoLevelsSuppressOnlyWithinALevel) {
  RpnOptions o;
  o.in_channels = 4;
  o.anchors.sizes = {{32.0}, {64.0}};
  o.anchors.aspect_ratios = {{0.5, 1.0, 2.0}, {0.5, 1.0, 2.0}};
  o.pre_nms_top_n_test = 100;
  o.post_nms_top_n_test = 60;
  torch::manual_seed(2);
  expect_same_as_cpp(o, {128, 120}, {{128, 120}},
                     {torch::randn({1, 4, 16, 15}), torch::randn({1, 4, 8, 8})}, false, false);
}

TEST(RpnScript, NmsMatchesBoxOps) {
  torch::manual_seed(3);
  const int64_t n = 500;
  const auto xy = torch::rand({n, 2}) * 300, wh = torch::rand({n, 2}) * 80 + 1;
  const auto boxes = torch::cat({xy, xy + wh}, 1);
  auto scores = torch::rand({n});
  scores.narrow(0, 0, 50).fill_(0.5);  // ties: stable order
  const auto cats = torch::randint(0, 3, {n}, torch::kLong);
  auto m = scripted(RpnOptions{}, false);
  for (double thr : {0.3, 0.5, 0.7}) {
    const auto keep = m.run_method("rpn_batched_nms", boxes, scores, cats, thr).toTensor();
    EXPECT_TRUE(torch::equal(keep, batched_nms(boxes, scores, cats, thr))) << thr;
    const auto keep_one =
        m.run_method("rpn_batched_nms", boxes, scores, torch::zeros({n}, torch::kLong), thr)
            .toTensor();
    EXPECT_TRUE(torch::equal(keep_one, nms(boxes, scores, thr))) << thr;
  }
}

// The script's NMS settles one more box per round; a chain in which each box overlaps only its
// neighbours (IoU 0.6 at a shift of 2.5 on a width of 10), scores falling along it, needs the
// most rounds. Greedy keeps every other box: 0, 2, 4, ...
TEST(RpnScript, NmsFollowsAChainOfOverlaps) {
  const int64_t n = 41;
  const auto x = torch::arange(n, torch::kFloat) * 2.5;
  const auto boxes = torch::stack({x, torch::zeros({n}), x + 10, torch::full({n}, 10.0f)}, 1);
  const auto scores = 1 - torch::arange(n, torch::kFloat) / n;
  auto m = scripted(RpnOptions{}, false);
  const auto keep = m.run_method("rpn_batched_nms", boxes, scores, torch::zeros({n}, torch::kLong), 0.5).toTensor();
  EXPECT_TRUE(torch::equal(keep, torch::arange(0, n, 2, torch::kLong))) << keep;
  EXPECT_TRUE(torch::equal(keep, nms(boxes, scores, 0.5)));
}

}  // namespace
}  // namespace zoo
