#include "apps/step_benches.h"

#include <array>

#include "losses/keypoint_loss.h"
#include "losses/masked_lm_loss.h"
#include "losses/rpn_loss.h"
#include "losses/sts_loss.h"
#include "models/bert.h"
#include "models/detection/rpn.h"
#include "models/heatmap_net.h"
#include "models/keypoint_regressor.h"
#include "models/soft_argmax.h"
#include "models/sts.h"
#include "train/optim.h"

namespace zoo {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

namespace {

// As training makes it (train/optim.h): no weight decay on biases and norm weights, where the
// twins' torch.optim.AdamW decays every parameter. Same cost per step.
std::unique_ptr<torch::optim::Optimizer> optimizer_for(torch::nn::Module& model, const std::string& name, double lr,
                                                       double weight_decay) {
  zoo::OptimOptions o;
  o.name = name;
  o.lr = lr;
  o.weight_decay = weight_decay;
  return zoo::make_optimizer(o, model);
}


// bench_bert.py --task mlm: vocab 8192, hidden 256, 4 layers, 4 heads, FFN 1024, seq 128,
// batch 32, dropout 0.1, 15 % masked (80/10/10), AdamW(lr 1e-4, wd 0.01). Our step runs the
// decoder only at the masked positions, as training in this project does (the twin's
// --mlm-gather variant does the same work).
struct MlmBench : Bench {
  static constexpr int64_t V = 8192, B = 32, S = 128, CLS = 1, SEP = 2, MASK = 3;
  zoo::BertForMaskedLM model{zoo::BertConfig{}};
  std::unique_ptr<torch::optim::Optimizer> optimizer = optimizer_for(*model, "adamw", 1e-4, 0.01);
  torch::optim::Optimizer& optim() override { return *optimizer; }
  std::vector<std::array<torch::Tensor, 4>> batches;  // ids, mask, types, labels

  MlmBench() {
    auto g = at::detail::createCPUGenerator(1234);
    for (int i = 0; i < 4; ++i) {
      auto ids = torch::randint(5, V, {B, S}, g, torch::kInt64);
      ids.select(1, 0).fill_(CLS);
      ids.select(1, S - 1).fill_(SEP);
      auto prob = torch::rand({B, S}, g);
      prob.select(1, 0).fill_(1.0);
      prob.select(1, S - 1).fill_(1.0);
      const auto sel = prob < 0.15;
      auto labels = torch::full({B, S}, -100, torch::kInt64).masked_scatter(sel, ids.masked_select(sel));
      const auto r = torch::rand({B, S}, g);
      auto input = ids.clone().masked_fill(sel & (r < 0.8), MASK);
      const auto rnd = sel & (r >= 0.8) & (r < 0.9);
      input.masked_scatter_(rnd, torch::randint(5, V, {rnd.sum().item<int64_t>()}, g, torch::kInt64));
      batches.push_back({input, torch::ones({B, S}, torch::kInt64), torch::zeros({B, S}, torch::kInt64), labels});
    }
    model->train();
  }
  double items_per_step() const override { return static_cast<double>(B * S); }
  const char* items() const override { return "tokens"; }
  void step(int i) override {
    const auto& b = batches[static_cast<size_t>(i) % batches.size()];
    const auto labels = b[3].reshape({-1});
    const auto positions = (labels != -100).nonzero().squeeze(1);
    const auto logits = model->forward_at(b[0], b[1], b[2], positions);
    zoo::masked_lm_loss(logits, labels.index_select(0, positions)).backward();
    optimizer->step();
    model->zero_grad(/*set_to_none=*/true);
  }
};

// bench_bert.py --task sts: the same encoder, seq 64, batch 32, pairs [CLS] a [SEP] b [SEP] of
// random total length 16..64 padded to 64 (attention mask), token types 0/1, pooler -> dropout ->
// Linear(256, 1), MSE against targets in [0, 1], AdamW(lr 2e-5, wd 0.01). Ours: the
// cross-encoder with the regression head, unbounded (the twin has no sigmoid) and without the
// exact-match embedding (the twin has none).
struct StsBench : Bench {
  static constexpr int64_t V = 8192, B = 32, S = 64, CLS = 1, SEP = 2;
  zoo::StsModel model{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  torch::optim::Optimizer& optim() override { return *optimizer; }
  std::vector<std::array<torch::Tensor, 4>> batches;  // ids, mask, types, target

  StsBench() {
    zoo::StsModelOptions o;
    o.architecture = "cross";
    o.head = "regression";
    o.bound_output = false;
    o.exact_match = false;
    model = zoo::StsModel(zoo::BertConfig{}, o);
    optimizer = optimizer_for(*model, "adamw", 2e-5, 0.01);
    auto g = at::detail::createCPUGenerator(1234);
    for (int k = 0; k < 4; ++k) {
      auto ids = torch::zeros({B, S}, torch::kInt64), types = torch::zeros({B, S}, torch::kInt64),
           mask = torch::zeros({B, S}, torch::kInt64);
      for (int64_t i = 0; i < B; ++i) {
        const int64_t n = torch::randint(16, S + 1, {1}, g, torch::kInt64).item<int64_t>();
        const int64_t la = (n - 3) / 2, lb = n - 3 - la;
        auto row = ids[i];
        row[0] = CLS;
        row.slice(0, 1, 1 + la).copy_(torch::randint(5, V, {la}, g, torch::kInt64));
        row[1 + la] = SEP;
        row.slice(0, la + 2, n - 1).copy_(torch::randint(5, V, {lb}, g, torch::kInt64));
        row[n - 1] = SEP;
        mask[i].slice(0, 0, n).fill_(1);
        types[i].slice(0, la + 2, n).fill_(1);
      }
      batches.push_back({ids, mask, types, torch::rand({B}, g)});
    }
    model->train();
  }
  double items_per_step() const override { return static_cast<double>(B * S); }
  const char* items() const override { return "tokens"; }
  void step(int i) override {
    const auto& b = batches[static_cast<size_t>(i) % batches.size()];
    const auto raw = model->forward_cross(b[0], b[1], b[2], torch::Tensor());
    zoo::sts_regression_loss(model->score(raw), b[3]).backward();
    optimizer->step();
    model->zero_grad(/*set_to_none=*/true);
  }
};

// bench_keypoint_resnet.py: torchvision resnet18(num_classes=63) = our KeypointRegressor with
// default options, 32 x 3 x 128 x 128, BN in train mode, mean per-keypoint Euclidean loss
// (sqrt(|e|^2 + 1e-12)), Adam(lr 1e-3, no weight decay).
struct KeypointsBench : Bench {
  static constexpr int64_t B = 32, R = 128, K = 21;
  zoo::KeypointRegressor model{zoo::KeypointRegressorOptions{}};
  std::unique_ptr<torch::optim::Optimizer> optimizer = optimizer_for(*model, "adam", 1e-3, 0.0);
  torch::optim::Optimizer& optim() override { return *optimizer; }
  std::vector<std::array<torch::Tensor, 2>> batches;

  KeypointsBench() {
    auto g = at::detail::createCPUGenerator(1234);
    for (int i = 0; i < 2; ++i) batches.push_back({torch::randn({B, 3, R, R}, g), torch::rand({B, K, 3}, g)});
    model->train();
  }
  double items_per_step() const override { return static_cast<double>(B); }
  const char* items() const override { return "images"; }
  void step(int i) override {
    const auto& b = batches[static_cast<size_t>(i) % batches.size()];
    zoo::keypoint_loss(model->forward(b[0]), b[1]).backward();  // euclidean, all visible
    optimizer->step();
    model->zero_grad(/*set_to_none=*/true);
  }
};

// bench_heatmap.py: HeatmapNet with default options (the twin's encoder, transposed-conv decoder
// and 1x1 head: 21 heatmaps of 64 x 64 from 128 px), spatial soft-argmax, mean L1, Adam(lr 1e-3),
// batch 32. The twin's coordinate grid is linspace(0, 1, 64), i.e. the align-corners grid
// [-1, 1] mapped to [0, 1]: ours uses the align-corners grid with targets uniform in [-1, 1],
// the same computation up to that affine map.
struct HeatmapBench : Bench {
  static constexpr int64_t B = 32, R = 128, K = 21;
  zoo::HeatmapNet model{nullptr};
  zoo::SoftArgmax2d soft_argmax{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  torch::optim::Optimizer& optim() override { return *optimizer; }
  std::vector<std::array<torch::Tensor, 2>> batches;

  // "heatmap_upsample": our decoder=upsample (nearest x2 + 3x3 conv instead of each transposed
  // convolution, which LibTorch 1.13 runs through a slow generic kernel) against the same twin.
  explicit HeatmapBench(bool upsample) {
    zoo::HeatmapNetOptions net;
    if (upsample) net.decoder = "upsample";
    model = zoo::HeatmapNet(net);
    optimizer = optimizer_for(*model, "adam", 1e-3, 0.0);
    zoo::SoftArgmaxOptions o;
    o.convention = zoo::CoordConvention::kAlignCorners;
    soft_argmax = zoo::SoftArgmax2d(o);
    auto g = at::detail::createCPUGenerator(1234);
    for (int i = 0; i < 2; ++i)
      batches.push_back({torch::randn({B, 3, R, R}, g), torch::rand({B, K, 2}, g) * 2 - 1});
    model->train();
  }
  double items_per_step() const override { return static_cast<double>(B); }
  const char* items() const override { return "images"; }
  void step(int i) override {
    const auto& b = batches[static_cast<size_t>(i) % batches.size()];
    zoo::KeypointLossOptions l1;
    l1.kind = "l1";
    zoo::keypoint_loss(soft_argmax(model->forward(b[0])), b[1], {}, l1).backward();
    optimizer->step();
    model->zero_grad(/*set_to_none=*/true);
  }
};

// bench_rpn.py: torchvision's RegionProposalNetwork with Faster R-CNN's defaults (9 anchors,
// sizes 128/256/512 x ratios 0.5/1/2, RPNHead(256, 9), IoU 0.7/0.3, 256 sampled per image,
// pre/post-NMS top-n 2000 train / 1000 test, NMS 0.7) on a fixed random feature map
// [2, 256, 38, 50] of a 600 x 800 batch (17100 anchors per image), 3 random gt boxes per image.
// "rpn" = the twin's train_step (forward, targets, loss, backward, SGD(lr 0.01, momentum 0.9)
// step, zero_grad); "rpn_eval" = its eval_proposals (eval mode, no grad, 1000 per image);
// "rpn_head" / "rpn_head_eval" = its head_only_fwd_bwd / head_only_eval (the head's
// convolutions alone), which bench.sh subtracts to compare everything else.
struct RpnBench : Bench {
  zoo::RegionProposalNetwork rpn{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  torch::optim::Optimizer& optim() override { return *optimizer; }
  std::vector<torch::Tensor> features{torch::randn({2, 256, 38, 50})};
  std::vector<torch::Tensor> gt_boxes;
  bool train, head_only;

  RpnBench(bool train_step, bool head_only_step) : train(train_step), head_only(head_only_step) {
    zoo::RpnOptions o;
    o.in_channels = 256;
    rpn = zoo::RegionProposalNetwork(o);
    optimizer = optimizer_for(*rpn, "sgd", 0.01, 0.0);
    auto g = at::detail::createCPUGenerator(1234);
    for (int i = 0; i < 2; ++i) {
      const auto xy = torch::rand({3, 2}, g) * torch::tensor({500.0f, 300.0f});
      const auto wh = 50 + torch::rand({3, 2}, g) * 250;
      auto boxes = torch::cat({xy, xy + wh}, 1);
      boxes.slice(1, 0, 4, 2).clamp_(0, 800);
      boxes.slice(1, 1, 4, 2).clamp_(0, 600);
      gt_boxes.push_back(boxes);
    }
    rpn->train(train);
  }
  double items_per_step() const override { return 2.0; }
  const char* items() const override { return "images"; }
  // The twin's pieces(): the step with a timer around each stage (ms), for the profile.
  std::vector<std::pair<std::string, double>> pieces() override {
    std::vector<std::pair<std::string, double>> t;
    auto t0 = std::chrono::steady_clock::now();
    const auto tick = [&](const char* name) {
      t.emplace_back(name, seconds_since(t0) * 1e3);
      t0 = std::chrono::steady_clock::now();
    };
    torch::AutoGradMode grad_mode(train);
    const zoo::ImageSize size = {600, 800};
    const auto [logits, deltas] = rpn->head->forward(features);
    tick("head_conv_fwd");
    const auto anchors = rpn->anchor_generator(size, features);
    tick("anchor_gen");
    const auto [objectness, pred] = zoo::concat_box_prediction_layers(logits, deltas);
    const auto proposals = rpn->box_coder.decode(pred.detach(), anchors.repeat({2, 1})).view({2, -1, 4});
    tick("concat+decode");
    rpn->filter_proposals(proposals, objectness.detach().view({2, -1}), {size, size}, {anchors.size(0)});
    tick("filter_proposals(topk+clip+nms)");
    if (!train) return t;
    zoo::RpnOutput out;
    out.objectness = objectness;
    out.pred_deltas = pred;
    out.anchors = anchors;
    out.num_anchors_per_level = {anchors.size(0)};
    const auto targets = rpn->training_targets(out, gt_boxes);
    tick("assign_targets+sample");
    const auto l = zoo::rpn_loss(objectness, pred, targets.labels, targets.regression_targets,
                                 targets.sampled_positive, targets.sampled_negative);
    tick("loss");
    (l.objectness + l.box_reg).backward();
    tick("backward");
    optimizer->step();
    rpn->zero_grad(/*set_to_none=*/true);
    tick("optimizer_step+zero_grad");
    return t;
  }
  void step(int) override {
    const zoo::ImageSize size = {600, 800};
    if (head_only) {
      torch::AutoGradMode grad_mode(train);
      const auto [logits, deltas] = rpn->head->forward(features);
      if (train) {
        (logits[0].sum() + deltas[0].sum()).backward();
        rpn->zero_grad(/*set_to_none=*/true);
      }
      return;
    }
    if (!train) {
      torch::NoGradGuard no_grad;
      rpn->forward(size, {size, size}, features);
      return;
    }
    const auto out = rpn->forward(size, {size, size}, features);
    const auto t = rpn->training_targets(out, gt_boxes);
    const auto l = zoo::rpn_loss(out.objectness, out.pred_deltas, t.labels, t.regression_targets,
                                 t.sampled_positive, t.sampled_negative);
    (l.objectness + l.box_reg).backward();
    optimizer->step();
    rpn->zero_grad(/*set_to_none=*/true);
  }
};

}  // namespace

std::unique_ptr<Bench> make_bench(const std::string& task) {
  if (task == "mlm") return std::make_unique<MlmBench>();
  if (task == "sts") return std::make_unique<StsBench>();
  if (task == "keypoints") return std::make_unique<KeypointsBench>();
  if (task == "heatmap" || task == "heatmap_upsample") return std::make_unique<HeatmapBench>(task == "heatmap_upsample");
  if (task == "rpn" || task == "rpn_eval" || task == "rpn_head" || task == "rpn_head_eval")
    return std::make_unique<RpnBench>(task == "rpn" || task == "rpn_head", task.rfind("rpn_head", 0) == 0);
  if (task == "rpn_pieces" || task == "rpn_eval_pieces") return std::make_unique<RpnBench>(task == "rpn_pieces", false);
  return nullptr;
}

}  // namespace zoo
