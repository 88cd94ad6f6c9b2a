#include "train/tasks/rpn_task.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <random>

#include "data/drawing.h"
#include "data/detection_batch.h"
#include "data/detection_formats.h"
#include "data/image_file.h"
#include "data/detection_synth.h"
#include "data/hand_batch.h"
#include "data/sampling.h"
#include "losses/rpn_loss.h"
#include "models/detection/box_ops.h"
#include "models/detection/rpn.h"
#include "models/resnet.h"
#include "io/export_format.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "train/bert_io.h"
#include "train/torchvision_weights.h"
#include "train/plot.h"
#include "train/tasks/rpn_export.h"
#include "train/trainer.h"

namespace zoo {

namespace fs = std::filesystem;

Json rpn_task_defaults() {
  Json j = trainer_defaults();
  j["task"] = "rpn";
  const RpnOptions r;
  j["model"] = {{"depth", 18},
                {"base_width", 64},  // 64 = torchvision's ResNet-18 cut after layer3 (256 channels)
                {"anchor_sizes", r.anchors.sizes[0]},
                {"aspect_ratios", r.anchors.aspect_ratios[0]},
                {"fg_iou_thresh", r.fg_iou_thresh},
                {"bg_iou_thresh", r.bg_iou_thresh},
                {"zero_iou_guard", r.zero_iou_guard},
                {"batch_size_per_image", r.batch_size_per_image},
                {"positive_fraction", r.positive_fraction},
                {"pre_nms_top_n_train", r.pre_nms_top_n_train},
                {"pre_nms_top_n_test", r.pre_nms_top_n_test},
                {"post_nms_top_n_train", r.post_nms_top_n_train},
                {"post_nms_top_n_test", r.post_nms_top_n_test},
                {"nms_thresh", r.nms_thresh},
                {"min_size", r.min_size}};
  j["data"] = {{"train_file", ""},  // empty: generated shapes; else COCO .json, VOC dir, YOLO dir or .csv
               {"val_file", ""},
               {"format", "auto"},
               {"val_from_index", -1},  // >= 1: images [i, end) of val_file (else train_file) validate
               {"bad_boxes", "drop"},   // clip | drop | reject out-of-image and degenerate boxes
               {"max_boxes_per_image", 1000},  // more in one image is an error naming it
               {"min_size", 320},       // torchvision's resize: short side
               {"max_size", 533},       //                        long side at most
               {"hflip", 0.5},          // training flip probability
               {"synthetic_train_size", 4000},
               {"synthetic_val_size", 64},
               {"synthetic_image_size", 256},
               {"synthetic_seed", 0}};
  j["eval"] = {{"batch_size", 4}, {"pictures", true}, {"untrained_baseline", true}};
  // A torchvision resnet18/34 state dict (.pth or .safetensors) for the backbone, layer4 and fc
  // ignored (model.base_width 64; train/torchvision_weights.h).
  j["init"] = {{"torchvision_weights", ""}};
  j["optim"]["name"] = "sgd";
  j["optim"]["lr"] = 0.01;
  j["optim"]["momentum"] = 0.9;
  j["optim"]["weight_decay"] = 1e-4;
  j["schedule"]["name"] = "cosine";
  j["schedule"]["warmup_steps"] = 100;
  j["train"]["batch_size"] = 2;
  return j;
}

namespace {

const char* const kImages = "images";
const char* const kSizes = "image_sizes";  // [B, 2] int64 (height, width) before padding
const char* const kBoxes = "boxes";        // [B, M, 4] ground truth, zero rows past num_boxes
const char* const kNumBoxes = "num_boxes";
const char* const kProposals = "proposals";  // predict(): [B, N, 4], zero rows past num_proposals
const char* const kNumProposals = "num_proposals";
const char* const kScores = "scores";
const char* const kRandom = "random_anchors";        // [B, N, 4] the baseline's anchors
const char* const kUntrained = "untrained_proposals";  // [B, N, 4] and kNumUntrained
const char* const kNumUntrained = "num_untrained";

constexpr std::array<int64_t, 3> kTopN = {100, 300, 1000};
constexpr int kPictureCount = 8;

// The backbone cut after layer3 (stride 16) and the RPN on its feature map.
class ProposalNetworkImpl : public torch::nn::Module {
 public:
  ProposalNetworkImpl(const ResNetOptions& backbone_options, RpnOptions rpn_options) {
    backbone = register_module("backbone", ResNet(backbone_options));
    rpn_options.in_channels = backbone->out_channels();
    rpn = register_module("rpn", RegionProposalNetwork(rpn_options));
  }
  RpnOutput forward(const Batch& batch) {
    const torch::Tensor& images = batch.at(kImages);
    const auto sizes = batch.at(kSizes).cpu();
    std::vector<ImageSize> image_sizes;
    for (int64_t i = 0; i < sizes.size(0); ++i)
      image_sizes.push_back({sizes[i][0].item<int64_t>(), sizes[i][1].item<int64_t>()});
    return rpn->forward({images.size(2), images.size(3)}, image_sizes, {backbone->forward_features(images)});
  }
  ResNet backbone{nullptr};
  RegionProposalNetwork rpn{nullptr};
};
TORCH_MODULE(ProposalNetwork);

std::vector<torch::Tensor> gt_boxes_of(const Batch& batch) {
  std::vector<torch::Tensor> out;
  const auto n = batch.at(kNumBoxes).cpu();
  for (int64_t i = 0; i < n.size(0); ++i) out.push_back(batch.at(kBoxes)[i].narrow(0, 0, n[i].item<int64_t>()));
  return out;
}

// Per image [n_i, 4] -> [B, max n, 4] with zero rows, and the counts.
std::pair<torch::Tensor, torch::Tensor> pad_boxes(const std::vector<torch::Tensor>& boxes,
                                                  const torch::TensorOptions& options) {
  int64_t most = 1;
  for (const auto& b : boxes) most = std::max(most, b.size(0));
  torch::Tensor out = torch::zeros({static_cast<int64_t>(boxes.size()), most, 4}, options);
  torch::Tensor counts = torch::zeros({static_cast<int64_t>(boxes.size())}, torch::kInt64);
  for (size_t i = 0; i < boxes.size(); ++i) {
    out[static_cast<int64_t>(i)].narrow(0, 0, boxes[i].size(0)).copy_(boxes[i]);
    counts[static_cast<int64_t>(i)] = boxes[i].size(0);
  }
  return {out, counts};
}

// Recall of ground-truth boxes by ranked candidate boxes, accumulated over images.
struct RecallCounter {
  std::vector<std::vector<double>> best_iou = std::vector<std::vector<double>>(kTopN.size());  // per top-n, per gt
  void add(const torch::Tensor& gt, const torch::Tensor& ranked) {
    if (gt.size(0) == 0) return;
    const auto iou = ranked.size(0) > 0 ? box_iou(gt.to(torch::kFloat32), ranked.to(torch::kFloat32))
                                        : torch::zeros({gt.size(0), 0});
    for (size_t k = 0; k < kTopN.size(); ++k) {
      const int64_t n = std::min(kTopN[k], iou.size(1));
      const auto best = n > 0 ? std::get<0>(iou.narrow(1, 0, n).max(1)) : torch::zeros({gt.size(0)});
      for (int64_t g = 0; g < gt.size(0); ++g) best_iou[k].push_back(best[g].item<double>());
    }
  }
  double recall(size_t k, double threshold) const {
    if (best_iou[k].empty()) return 0;
    const auto hits = std::count_if(best_iou[k].begin(), best_iou[k].end(), [&](double v) { return v >= threshold; });
    return static_cast<double>(hits) / static_cast<double>(best_iou[k].size());
  }
  double average_recall(size_t k) const {  // IoU 0.5:0.05:0.95, as COCO's AR
    double sum = 0;
    for (int t = 0; t < 10; ++t) sum += recall(k, 0.5 + 0.05 * t);
    return sum / 10;
  }
  void write(Metrics& m, const std::string& prefix) const {
    for (size_t k = 0; k < kTopN.size(); ++k) {
      const std::string n = std::to_string(kTopN[k]);
      m[prefix + "recall" + n + "_iou50"] = recall(k, 0.5);
      m[prefix + "recall" + n + "_iou70"] = recall(k, 0.7);
    }
    m[prefix + "ar100"] = average_recall(0);
  }
};

// Top proposals in colour (best first: red to blue), ground truth in white, on the unpadded image.
cv::Mat proposals_picture(const torch::Tensor& image_chw, const ImageSize& size, const torch::Tensor& gt,
                          const torch::Tensor& proposals, int64_t top) {
  cv::Mat picture = tensor_to_image(image_chw.narrow(1, 0, size[0]).narrow(2, 0, size[1]).cpu());
  draw_boxes(picture, gt, cv::Scalar(255, 255, 255), 3);
  const int64_t n = std::min(top, proposals.size(0));
  for (int64_t i = n - 1; i >= 0; --i) {
    const double f = n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0;
    draw_boxes(picture, proposals.narrow(0, i, 1), cv::Scalar(255 * f, 64, 255 * (1 - f)), 1);
  }
  return picture;
}

class RpnEvaluator : public Evaluator {
 public:
  // plots_dir empty: no pictures. split: read at summarize time (the task sets it in eval_batches,
  // which callers invoke after make_evaluator).
  RpnEvaluator(bool untrained, std::string plots_dir, const std::string* split)
      : untrained_(untrained), plots_dir_(std::move(plots_dir)), split_(split) {}
  void reset() override {
    trained_ = random_ = untrained_counter_ = RecallCounter();
    pictures_.clear();
    images_ = 0;
  }
  void process(const Batch& batch, const Batch& out) override {
    const auto gt = gt_boxes_of(batch);
    const auto n = out.at(kNumProposals).cpu(), nu = untrained_ ? out.at(kNumUntrained).cpu() : torch::Tensor();
    const auto sizes = batch.at(kSizes).cpu();
    for (size_t i = 0; i < gt.size(); ++i, ++images_) {
      const auto b = static_cast<int64_t>(i);
      const auto proposals = out.at(kProposals)[b].narrow(0, 0, n[b].item<int64_t>()).cpu();
      trained_.add(gt[i].cpu(), proposals);
      random_.add(gt[i].cpu(), out.at(kRandom)[b].cpu());
      if (untrained_) untrained_counter_.add(gt[i].cpu(), out.at(kUntrained)[b].narrow(0, 0, nu[b].item<int64_t>()).cpu());
      if (!plots_dir_.empty() && static_cast<int>(pictures_.size()) < kPictureCount)
        pictures_.push_back(proposals_picture(batch.at(kImages)[b], {sizes[b][0].item<int64_t>(), sizes[b][1].item<int64_t>()},
                                              gt[i], proposals, 10));
    }
  }
  Metrics summarize() override {
    Metrics m;
    trained_.write(m, "");
    random_.write(m, "random_");
    if (untrained_) untrained_counter_.write(m, "untrained_");
    m["gt_boxes"] = static_cast<double>(trained_.best_iou[0].size());
    m["images"] = static_cast<double>(images_);
    if (!pictures_.empty()) write_grid();
    return m;
  }

 private:
  void write_grid() {
    const int tile = 256, cols = 4, rows = (static_cast<int>(pictures_.size()) + cols - 1) / cols;
    cv::Mat grid(rows * tile, cols * tile, CV_8UC3, cv::Scalar(32, 32, 32));
    for (size_t i = 0; i < pictures_.size(); ++i) {
      const cv::Mat& p = pictures_[i];
      const double f = static_cast<double>(tile) / std::max(p.cols, p.rows);
      cv::Mat small;
      cv::resize(p, small, cv::Size(), f, f, cv::INTER_AREA);
      const int r = static_cast<int>(i) / cols, c = static_cast<int>(i) % cols;
      small.copyTo(grid(cv::Rect(c * tile, r * tile, small.cols, small.rows)));
    }
    fs::create_directories(plots_dir_);
    write_png(plots_dir_ + "/proposals_" + *split_ + ".png", grid);
  }

  bool untrained_;
  std::string plots_dir_;
  const std::string* split_;
  RecallCounter trained_, random_, untrained_counter_;
  std::vector<cv::Mat> pictures_;
  int64_t images_ = 0;
};

BadBoxPolicy parse_policy(const Config& cfg) {
  const std::string p = cfg.at("data.bad_boxes").get<std::string>();
  if (p == "clip") return BadBoxPolicy::clip;
  if (p == "drop") return BadBoxPolicy::drop;
  if (p == "reject") return BadBoxPolicy::reject;
  cfg.fail("data.bad_boxes", "must be clip, drop or reject");
}

class RpnTask : public Task {
 public:
  RpnTask(const Config& cfg, const std::string& run_dir, TaskData data) : run_dir_(run_dir) {
    const Json& m = cfg.at("model");
    ResNetOptions backbone;
    backbone.depth = m.at("depth").get<int64_t>();
    backbone.base_width = m.at("base_width").get<int64_t>();
    backbone.num_stages = 3;  // layer3: stride 16, as the Faster R-CNN paper's C4 feature map
    cfg.require(backbone.depth == 18 || backbone.depth == 34, "model.depth", "must be 18 or 34");
    cfg.require(backbone.base_width >= 4 && backbone.base_width <= 512, "model.base_width", "must be in [4, 512]");
    RpnOptions r;
    r.anchors.sizes = {m.at("anchor_sizes").get<std::vector<double>>()};
    r.anchors.aspect_ratios = {m.at("aspect_ratios").get<std::vector<double>>()};
    cfg.require(!r.anchors.sizes[0].empty(), "model.anchor_sizes", "must not be empty");
    cfg.require(!r.anchors.aspect_ratios[0].empty(), "model.aspect_ratios", "must not be empty");
    for (double v : r.anchors.sizes[0]) cfg.require(v > 0, "model.anchor_sizes", "must be > 0");
    for (double v : r.anchors.aspect_ratios[0]) cfg.require(v > 0, "model.aspect_ratios", "must be > 0");
    r.fg_iou_thresh = m.at("fg_iou_thresh").get<double>();
    r.bg_iou_thresh = m.at("bg_iou_thresh").get<double>();
    cfg.require(r.bg_iou_thresh >= 0 && r.bg_iou_thresh <= r.fg_iou_thresh && r.fg_iou_thresh <= 1,
                "model.fg_iou_thresh", "and model.bg_iou_thresh need 0 <= bg <= fg <= 1");
    r.zero_iou_guard = m.at("zero_iou_guard").get<bool>();
    r.batch_size_per_image = m.at("batch_size_per_image").get<int64_t>();
    r.positive_fraction = m.at("positive_fraction").get<double>();
    cfg.require(r.batch_size_per_image > 0, "model.batch_size_per_image", "must be > 0");
    cfg.require(r.positive_fraction > 0 && r.positive_fraction <= 1, "model.positive_fraction", "must be in (0, 1]");
    for (const char* key : {"pre_nms_top_n_train", "pre_nms_top_n_test", "post_nms_top_n_train", "post_nms_top_n_test"})
      cfg.require(m.at(key).get<int64_t>() > 0, std::string("model.") + key, "must be > 0");
    r.pre_nms_top_n_train = m.at("pre_nms_top_n_train").get<int64_t>();
    r.pre_nms_top_n_test = m.at("pre_nms_top_n_test").get<int64_t>();
    r.post_nms_top_n_train = m.at("post_nms_top_n_train").get<int64_t>();
    r.post_nms_top_n_test = m.at("post_nms_top_n_test").get<int64_t>();
    r.nms_thresh = m.at("nms_thresh").get<double>();
    r.min_size = m.at("min_size").get<double>();
    cfg.require(r.nms_thresh > 0 && r.nms_thresh <= 1, "model.nms_thresh", "must be in (0, 1]");
    cfg.require(r.min_size >= 0, "model.min_size", "must be >= 0");

    const Json& d = cfg.at("data");
    transform_.min_size = d.at("min_size").get<int>();
    transform_.max_size = d.at("max_size").get<int>();
    cfg.require(transform_.min_size >= 32 && transform_.max_size >= transform_.min_size, "data.min_size",
                "and data.max_size need 32 <= min_size <= max_size");
    hflip_ = d.at("hflip").get<double>();
    policy_ = parse_policy(cfg);
    cfg.require(hflip_ >= 0 && hflip_ <= 1, "data.hflip", "must be in [0, 1]");
    if (data == TaskData::kLoad) load_data(cfg);  // export and predict read no images

    const Json& e = cfg.at("eval");
    eval_batch_size_ = e.at("batch_size").get<int64_t>();
    cfg.require(eval_batch_size_ > 0, "eval.batch_size", "must be > 0");
    pictures_ = e.at("pictures").get<bool>();
    const TrainOptions train = train_options(cfg);
    batch_size_ = train.batch_size;
    seed_ = static_cast<uint64_t>(train.seed);
    if (data == TaskData::kLoad) sampler_ = std::make_unique<EpochSampler>(train_size_, seed_);

    torch::manual_seed(seed_);  // parameter init
    net_ = ProposalNetwork(backbone, r);
    // Only when a run starts: a run with its own checkpoints (resume, eval, export) loads those.
    const std::string tv = cfg.at("init.torchvision_weights").get<std::string>();
    const bool has_own = run_has_checkpoint(run_dir_);
    if (!tv.empty() && !has_own) {
      cfg.require(fs::is_regular_file(tv), "init.torchvision_weights", "names a file that does not exist: " + tv);
      load_torchvision_resnet(tv, *net_->backbone);
      std::cout << "rpn: backbone initialised from " << tv << "\n";
    }
    if (e.at("untrained_baseline").get<bool>()) {
      torch::manual_seed(seed_);  // the same initial weights, never trained
      untrained_ = ProposalNetwork(backbone, r);
      if (!tv.empty() && !has_own) load_torchvision_resnet(tv, *untrained_->backbone);  // same start
      untrained_->eval();
    }
  }

  std::string name() const override { return "rpn"; }
  torch::nn::Module& model() override { return *net_; }
  PrimaryMetric primary_metric() const override { return {"ar100", true}; }
  std::unique_ptr<Evaluator> make_evaluator() override {
    const std::string plots = pictures_ && !run_dir_.empty() ? run_dir_ + "/plots" : "";
    return std::make_unique<RpnEvaluator>(!untrained_.is_empty(), plots, &eval_split_);
  }

  Batch train_batch(int64_t index) override {
    std::vector<int64_t> picked;
    for (int64_t t = 0; t < batch_size_; ++t) picked.push_back((*sampler_)(index * batch_size_ + t));
    DetectionTransformOptions o = transform_;
    o.hflip_probability = hflip_;
    o.seed = mix_seed(seed_, static_cast<uint64_t>(index));
    return make_batch(picked, /*train=*/true, o);
  }

  std::vector<Batch> eval_batches(const std::string& split) override {
    eval_split_ = split;
    const bool train = split == "train";
    if (!train && split != "val")
      throw UserError("rpn: split '" + split + "' does not exist (val, or train for the fit on training data)");
    std::vector<Batch>& cache = train ? train_eval_batches_ : val_batches_;
    if (cache.empty()) {
      const int64_t n = train ? std::min<int64_t>(train_size_, 64) : val_size_;
      for (int64_t start = 0; start < n; start += eval_batch_size_) {
        std::vector<int64_t> picked;
        for (int64_t i = start; i < std::min(n, start + eval_batch_size_); ++i) picked.push_back(i);
        cache.push_back(make_batch(picked, train, transform_));
      }
    }
    return cache;
  }

  StepLosses training_step(const Batch& batch) override {
    const RpnOutput out = net_->forward(batch);
    const RpnTargets t = net_->rpn->training_targets(out, gt_boxes_of(batch));
    const RpnLosses l = rpn_loss(out.objectness, out.pred_deltas, t.labels, t.regression_targets, t.sampled_positive,
                                 t.sampled_negative);
    // Both terms are divided by the number of sampled anchors: that is the unit count.
    const double sampled = static_cast<double>(t.sampled_positive.numel() + t.sampled_negative.numel());
    return {{{"objectness", l.objectness}, {"box_reg", l.box_reg}}, std::max(1.0, sampled)};
  }

  Batch predict(const Batch& batch) override {
    const auto options = batch.at(kImages).options();
    const RpnOutput out = net_->forward(batch);
    auto [proposals, counts] = pad_boxes(out.boxes, options);
    Batch result{{kProposals, proposals}, {kNumProposals, counts}};
    std::vector<torch::Tensor> scores;
    for (const auto& s : out.scores) scores.push_back(s.unsqueeze(1).expand({-1, 4}));
    result[kScores] = pad_boxes(scores, options).first.select(2, 0);
    // Baseline: as many anchors as the largest top-n, drawn at random (seeded by the image's
    // position in the split), clipped to the image like proposals.
    const auto sizes = batch.at(kSizes).cpu();
    std::vector<torch::Tensor> random;
    for (int64_t i = 0; i < sizes.size(0); ++i) {
      std::mt19937_64 rng(mix_seed(seed_ ^ 0x72616E646F6Dull, static_cast<uint64_t>(batch.at("index")[i].item<int64_t>())));
      std::vector<int64_t> pick;
      for (int64_t k = 0; k < std::min<int64_t>(kTopN.back(), out.anchors.size(0)); ++k)
        pick.push_back(uniform_index(rng, out.anchors.size(0)));
      const auto chosen = out.anchors.index_select(0, torch::tensor(pick, torch::kInt64).to(out.anchors.device()));
      random.push_back(clip_boxes_to_image(chosen, sizes[i][0].item<int64_t>(), sizes[i][1].item<int64_t>()));
    }
    result[kRandom] = pad_boxes(random, options).first;
    if (!untrained_.is_empty()) {
      untrained_->to(batch.at(kImages).device());
      const RpnOutput u = untrained_->forward(batch);
      auto [boxes, n] = pad_boxes(u.boxes, options);
      result[kUntrained] = boxes;
      result[kNumUntrained] = n;
    }
    return result;
  }

  void export_model(const std::string& dir) override {
    fs::create_directories(dir);
    net_->eval();
    export_rpn_torchscript(*net_->backbone, *net_->rpn, dir + "/model.pt");
    std::vector<std::pair<std::string, torch::Tensor>> weights;
    for (const auto& p : net_->named_parameters()) weights.emplace_back(p.key(), p.value().detach().cpu());
    for (const auto& b : net_->named_buffers()) weights.emplace_back(b.key(), b.value().detach().cpu());
    write_torch_tensor_dict(dir + "/weights.pt", weights);
    write_safetensors(dir + "/weights.safetensors", weights);
    const RpnOptions& r = net_->rpn->options();
    write_json_file(dir + "/meta.json",
                    {{"task", "rpn"},
                     {"format_version", kExportFormatVersion},
                     {"model", "model.pt"},
                     {"weights", "weights.pt"},
                     {"input",
                      {{"images", "[B, 3, H, W] float32 RGB, (pixel / 255 - mean) / std, ImageNet statistics, each "
                                  "image resized so its short side is min_size and long side <= max_size "
                                  "(bilinear), zero-padded at the bottom/right to multiples of 32"},
                       {"image_sizes", "[B, 2] int64 (height, width) of each image before padding"},
                       {"mean", {decimal(kImageNetMean[0]), decimal(kImageNetMean[1]), decimal(kImageNetMean[2])}},
                       {"std", {decimal(kImageNetStd[0]), decimal(kImageNetStd[1]), decimal(kImageNetStd[2])}},
                       {"min_size", transform_.min_size},
                       {"max_size", transform_.max_size},
                       {"size_divisible", transform_.size_divisible}}},
                     {"output",
                      {{"returns", "(boxes [B, N, 4], scores [B, N], counts [B])"},
                       {"boxes", "proposals (x1, y1, x2, y2) in pixels of the resized image, best first; rows past "
                                 "counts[b] are zero"},
                       {"scores", "objectness probabilities"}}},
                     {"post_processing",
                      {{"pre_nms_top_n", r.pre_nms_top_n_test},
                       {"post_nms_top_n", r.post_nms_top_n_test},
                       {"nms_thresh", r.nms_thresh},
                       {"min_size", r.min_size},
                       {"score_thresh", r.score_thresh}}},
                     {"anchor_sizes", r.anchors.sizes[0]},
                     {"aspect_ratios", r.anchors.aspect_ratios[0]}});
  }

 private:
  torch::Device device() { return net_->parameters().front().device(); }

  void load_data(const Config& cfg) {
    const Json& d = cfg.at("data");
    const std::string train_file = d.at("train_file").get<std::string>();
    const std::string val_file = d.at("val_file").get<std::string>();
    const int64_t val_from = d.at("val_from_index").get<int64_t>();
    if (train_file.empty() && val_file.empty()) {
      synth_.width = synth_.height = d.at("synthetic_image_size").get<int>();
      synth_.vary_size = true;
      cfg.require(synth_.width >= 64 && synth_.width <= 2048, "data.synthetic_image_size", "must be in [64, 2048]");
      synth_seed_ = d.at("synthetic_seed").get<uint64_t>();
      train_size_ = d.at("synthetic_train_size").get<int64_t>();
      val_size_ = d.at("synthetic_val_size").get<int64_t>();
      cfg.require(train_size_ > 0, "data.synthetic_train_size", "must be > 0");
      cfg.require(val_size_ > 0, "data.synthetic_val_size", "must be > 0");
      cfg.require(val_from == -1, "data.val_from_index", "needs data.train_file or data.val_file");
      return;
    }
    cfg.require(!train_file.empty(), "data.train_file", "is needed with data.val_file");
    const std::string format = d.at("format").get<std::string>();
    cfg.require(format == "auto" || format == "coco" || format == "voc" || format == "yolo" || format == "csv",
                "data.format", "must be auto, coco, voc, yolo or csv, got \"" + format + "\"");
    DetectionLoadOptions o;
    o.policy = policy_;
    o.max_boxes_per_image = d.at("max_boxes_per_image").get<int64_t>();
    cfg.require(o.max_boxes_per_image >= 1 && o.max_boxes_per_image <= 100000, "data.max_boxes_per_image",
                "must be in [1, 100000]");
    const auto load = [&](const std::string& key, const std::string& path) {
      cfg.require(fs::exists(path), key, "names a file or directory that does not exist: " + path);
      try {
        DetectionDataset data = load_detection_dataset(path, d.at("format").get<std::string>(), o);
        std::cout << "rpn: " << path << ": " << data.stats.summary() << "\n";
        if (!data.stats.first_problem.empty()) std::cout << "rpn:   first: " << data.stats.first_problem << "\n";
        return data.samples;
      } catch (const std::exception& e) {
        cfg.fail(key, std::string("cannot be loaded: ") + e.what());
      }
    };
    train_samples_ = load("data.train_file", train_file);
    if (!val_file.empty() && val_file != train_file) val_samples_ = load("data.val_file", val_file);
    if (val_from != -1) {
      // The validation block is the tail of val_file, or of train_file without one.
      const bool split_train = val_file.empty() || val_file == train_file;
      auto& split = split_train ? train_samples_ : val_samples_;
      cfg.require(val_from >= 1 && val_from < static_cast<int64_t>(split.size()), "data.val_from_index",
                  "must leave both blocks non-empty: the file has " + std::to_string(split.size()) + " images");
      std::vector<DetectionSample> tail(split.begin() + val_from, split.end());
      split.resize(static_cast<size_t>(val_from));
      val_samples_ = std::move(tail);
    }
    cfg.require(!val_samples_.empty(), "data.val_file", "or data.val_from_index must give validation images");
    train_size_ = static_cast<int64_t>(train_samples_.size());
    val_size_ = static_cast<int64_t>(val_samples_.size());
    train_images_.resize(train_samples_.size());
    val_images_.resize(val_samples_.size());
    // The first image of each split, decoded now: a missing, corrupt or wrongly sized file is an
    // error before the run directory is written, not at step 1.
    for (const bool train : {true, false}) try {
        sample(0, train);
      } catch (const std::exception& e) {
        cfg.fail(train || val_file.empty() ? "data.train_file" : "data.val_file", e.what());
      }
  }

  // Sample i of the training or validation set, with its decoded image (files: decoded once and
  // kept; generated: drawn again, a pure function of the index).
  std::pair<cv::Mat, DetectionSample> sample(int64_t i, bool train) {
    if (train_samples_.empty()) {
      const uint64_t seed = train ? synth_seed_ : mix_seed(synth_seed_, 0x76616C5F72706Eull);
      SyntheticDetection s = synthetic_detection(seed, i, synth_);
      return {s.image, s.sample};
    }
    auto& samples = train ? train_samples_ : val_samples_;
    auto& images = train ? train_images_ : val_images_;
    const auto k = static_cast<size_t>(i);
    if (images[k].empty()) images[k] = load_detection_image(samples[k]);
    return {images[k], samples[k]};
  }

  Batch make_batch(const std::vector<int64_t>& indices, bool train, const DetectionTransformOptions& o) {
    std::vector<cv::Mat> images;
    std::vector<DetectionSample> samples;
    for (const int64_t i : indices) {
      auto [image, s] = sample(i, train);
      images.push_back(image);
      samples.push_back(std::move(s));
    }
    const DetectionBatch b = make_detection_batch(images, samples, o);
    auto [boxes, counts] = pad_boxes(b.boxes, torch::kFloat32);
    torch::Tensor sizes = torch::empty({static_cast<int64_t>(indices.size()), 2}, torch::kInt64);
    for (size_t i = 0; i < indices.size(); ++i) {
      sizes[static_cast<int64_t>(i)][0] = b.image_sizes[i][0];
      sizes[static_cast<int64_t>(i)][1] = b.image_sizes[i][1];
    }
    return {{kImages, b.images}, {kSizes, sizes}, {kBoxes, boxes}, {kNumBoxes, counts},
            {"index", torch::tensor(indices, torch::kInt64)}};
  }

  std::string run_dir_;
  DetectionTransformOptions transform_;
  double hflip_ = 0.5;
  BadBoxPolicy policy_ = BadBoxPolicy::drop;
  DetectionSynthOptions synth_;
  uint64_t synth_seed_ = 0, seed_ = 0;
  std::vector<DetectionSample> train_samples_, val_samples_;
  std::vector<cv::Mat> train_images_, val_images_;
  int64_t train_size_ = 0, val_size_ = 0, batch_size_ = 2, eval_batch_size_ = 4;
  bool pictures_ = true;
  std::unique_ptr<EpochSampler> sampler_;
  ProposalNetwork net_{nullptr}, untrained_{nullptr};
  std::string eval_split_ = "val";
  std::vector<Batch> val_batches_, train_eval_batches_;
};

}  // namespace

std::unique_ptr<Task> make_rpn_task(const Config& cfg, const std::string& run_dir, TaskData data) {
  return std::make_unique<RpnTask>(cfg, run_dir, data);
}

}  // namespace zoo
