// ResNet backbone and KeypointRegressor: shapes, torchvision parity of sizes and names, init,
// and that the whole thing can learn (overfits a tiny batch).
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "models/keypoint_regressor.h"
#include "models/resnet.h"

namespace zoo {
namespace {

using Shape = std::vector<int64_t>;

int64_t count_parameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// The state-dict keys torchvision's resnet18/34 have (without fc), from TV's naming rules.
std::set<std::string> torchvision_keys(const std::vector<int64_t>& blocks) {
  std::set<std::string> keys;
  const auto add_bn = [&](const std::string& prefix) {
    for (const char* s : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"})
      keys.insert(prefix + "." + s);
  };
  keys.insert("conv1.weight");
  add_bn("bn1");
  for (size_t s = 0; s < blocks.size(); ++s)
    for (int64_t b = 0; b < blocks[s]; ++b) {
      const std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(b) + ".";
      keys.insert(p + "conv1.weight");
      add_bn(p + "bn1");
      keys.insert(p + "conv2.weight");
      add_bn(p + "bn2");
      if (s > 0 && b == 0) {
        keys.insert(p + "downsample.0.weight");
        add_bn(p + "downsample.1");
      }
    }
  return keys;
}

std::set<std::string> state_keys(const torch::nn::Module& m) {
  std::set<std::string> keys;
  for (const auto& p : m.named_parameters()) keys.insert(p.key());
  for (const auto& b : m.named_buffers()) keys.insert(b.key());
  return keys;
}

TEST(ResNet, Resnet18ShapesAt128Px) {
  torch::manual_seed(0);
  ResNet net;
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({2, 3, 128, 128});
  EXPECT_EQ(net->forward_features(x).sizes(), (Shape{2, 512, 4, 4}));
  const auto stages = net->forward_stages(x);
  ASSERT_EQ(stages.size(), 4u);
  for (int64_t s = 0; s < 4; ++s) {
    const int64_t side = 128 / net->stage_stride(s);
    EXPECT_EQ(stages[static_cast<size_t>(s)].sizes(), (Shape{2, net->stage_channels(s), side, side}));
  }
  EXPECT_EQ(net->stage_stride(2), 16);  // layer3: the heatmap / RPN tap
  EXPECT_TRUE(torch::equal(stages.back(), net->forward_features(x)));
}

TEST(ResNet, ParameterCountsAndNamesMatchTorchvision) {
  // sum(p.numel() for n, p in torchvision.models.resnetNN().named_parameters() if not fc).
  ResNet r18;
  EXPECT_EQ(count_parameters(*r18), 11176512);
  EXPECT_EQ(state_keys(*r18), torchvision_keys({2, 2, 2, 2}));
  EXPECT_EQ(r18->named_parameters().size(), 60u);  // TV: 62 with fc.weight, fc.bias
  ResNetOptions o;
  o.depth = 34;
  ResNet r34(o);
  EXPECT_EQ(count_parameters(*r34), 21284672);
  EXPECT_EQ(state_keys(*r34), torchvision_keys({3, 4, 6, 3}));
}

TEST(ResNet, FewerStagesAndOtherWidths) {
  ResNetOptions o;
  o.num_stages = 3;
  o.base_width = 16;
  o.in_channels = 1;
  ResNet net(o);
  EXPECT_EQ(net->out_channels(), 64);
  EXPECT_EQ(net->forward_features(torch::randn({1, 1, 64, 48})).sizes(), (Shape{1, 64, 4, 3}));
  EXPECT_EQ(net->named_children().size(), 6u);  // conv1 bn1 maxpool layer1..3
  EXPECT_THROW(net->stage_channels(3), c10::Error);
  EXPECT_THROW(net->forward_features(torch::randn({1, 3, 32, 32})), c10::Error);
  o.depth = 50;  // Bottleneck depths are not supported
  EXPECT_THROW(ResNet{o}, c10::Error);
}

TEST(ResNet, TorchvisionInitialisation) {
  torch::manual_seed(0);
  ResNetOptions o;
  o.zero_init_residual = true;
  ResNet net(o);
  // kaiming_normal(fan_out, relu): std = sqrt(2 / (out_channels * k * k)).
  const auto w = net->layers[3]->named_parameters()["1.conv2.weight"];
  EXPECT_NEAR(w.std().item<double>(), std::sqrt(2.0 / (512 * 9)), 0.02 * std::sqrt(2.0 / (512 * 9)));
  EXPECT_NEAR(net->conv1->weight.std().item<double>(), std::sqrt(2.0 / (64 * 49)), 0.003);
  EXPECT_TRUE(torch::all(net->bn1->weight == 1).item<bool>());
  for (const auto& p : net->named_parameters()) {
    const auto& name = p.key();
    if (name.find("bn2.weight") != std::string::npos) {
      EXPECT_EQ(p.value().abs().sum().item<double>(), 0.0) << name;
    }
    if (name.find("downsample.1.weight") != std::string::npos) {
      EXPECT_TRUE(torch::all(p.value() == 1).item<bool>()) << name;
    }
  }
}

TEST(KeypointRegressor, OutputShapeAndSize) {
  torch::manual_seed(0);
  KeypointRegressor model;
  // torchvision resnet18(num_classes=63): 11,176,512 + 512 * 63 + 63.
  EXPECT_EQ(count_parameters(*model), 11208831);
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->forward(torch::randn({3, 3, 128, 128})).sizes(), (Shape{3, 21, 3}));

  KeypointRegressorOptions o;
  o.backbone.base_width = 8;
  o.coord_dims = 2;
  o.num_keypoints = 5;
  KeypointRegressor uv(o);
  uv->eval();
  EXPECT_EQ(uv->forward(torch::randn({2, 3, 40, 56})).sizes(), (Shape{2, 5, 2}));
}

TEST(KeypointRegressor, OverfitsFourImages) {
  torch::manual_seed(0);
  KeypointRegressorOptions o;
  o.backbone.base_width = 8;
  KeypointRegressor model(o);
  model->train();
  const auto images = torch::randn({4, 3, 32, 32});
  const auto targets = torch::rand({4, 21, 3});
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-2));
  // Mean per-keypoint Euclidean distance (the training loss; zoo_losses is not linked here).
  const auto loss_of = [&] {
    return ((model->forward(images) - targets).square().sum(-1) + 1e-12).sqrt().mean();
  };
  double first = 0, last = 0;
  for (int step = 0; step < 100; ++step) {
    opt.zero_grad();
    const auto loss = loss_of();
    loss.backward();
    opt.step();
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
  }
  RecordProperty("first_loss", std::to_string(first));
  RecordProperty("last_loss", std::to_string(last));
  EXPECT_TRUE(std::isfinite(last));
  EXPECT_LT(last, 0.1 * first) << "first " << first << " last " << last;
}

}  // namespace
}  // namespace zoo
