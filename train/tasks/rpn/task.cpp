#include "train/tasks/rpn/task.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <random>

#include "data/detection_batch.h"
#include "data/detection_formats.h"
#include "data/detection_synth.h"
#include "data/sampling.h"
#include "losses/rpn_loss.h"
#include "models/detection/box_ops.h"
#include "models/detection/proposal_network.h"
#include "train/tasks/rpn/evaluator.h"
#include "train/tasks/rpn/export.h"
#include "io/formats/torchvision_resnet.h"
#include "io/user_file.h"
#include "train/trainer.h"

namespace zoo {

namespace fs = std::filesystem;

namespace {

using namespace detection_key;
using namespace rpn_output;

class RpnTask : public Task {
 public:
  RpnTask(const Config& cfg, const std::string& run_dir, TaskData data)
      : run_dir_(run_dir), o_(RpnTaskOptions::table().read(cfg)) {
    ResNetOptions backbone;
    backbone.depth = o_.depth;
    backbone.base_width = o_.base_width;
    RpnOptions r = o_.rpn;
    r.anchors.sizes = {o_.anchor_sizes};
    r.anchors.aspect_ratios = {o_.aspect_ratios};
    transform_.min_size = o_.min_size;
    transform_.max_size = o_.max_size;
    policy_ = o_.bad_boxes == "clip" ? BadBoxPolicy::clip : o_.bad_boxes == "reject" ? BadBoxPolicy::reject
                                                                                      : BadBoxPolicy::drop;
    if (data == TaskData::kLoad) load_data(cfg);  // export and predict read no images
    const TrainOptions train = train_options(cfg);
    batch_size_ = train.batch_size;
    seed_ = static_cast<uint64_t>(train.seed);
    if (data == TaskData::kLoad) sampler_ = std::make_unique<EpochSampler>(train_size_, seed_);

    torch::manual_seed(seed_);  // parameter init
    net_ = ProposalNetwork(backbone, r);
    // Only when a run starts: a run with its own checkpoints (resume, eval, export) loads those.
    const std::string& tv = o_.torchvision_weights;
    const bool has_own = run_has_checkpoint(run_dir_);
    if (!tv.empty() && !has_own) {
      cfg.require(fs::is_regular_file(tv), "init.torchvision_weights", describe_named_file(tv));
      load_torchvision_resnet(tv, *net_->backbone);
      std::cout << "rpn: backbone initialised from " << tv << "\n";
    }
    if (o_.untrained_baseline) {
      torch::manual_seed(seed_);  // the same initial weights, never trained
      untrained_ = ProposalNetwork(backbone, r);
      if (!tv.empty() && !has_own) load_torchvision_resnet(tv, *untrained_->backbone);  // same start
      untrained_->eval();
    }
  }

  std::string name() const override { return "rpn"; }
  torch::nn::Module& model() override { return *net_; }
  PrimaryMetric primary_metric() const override { return {"ar100", true}; }
  std::unique_ptr<Evaluator> make_evaluator(const std::string& split) override {
    const std::string plots = o_.pictures && !run_dir_.empty() ? run_dir_ + "/plots" : "";
    return std::make_unique<RpnEvaluator>(!untrained_.is_empty(), plots, split);
  }

  Batch train_batch(int64_t index) override {
    std::vector<int64_t> picked;
    for (int64_t t = 0; t < batch_size_; ++t) picked.push_back((*sampler_)(index * batch_size_ + t));
    DetectionTransformOptions o = transform_;
    o.hflip_probability = o_.hflip;
    o.seed = mix_seed(seed_, static_cast<uint64_t>(index));
    return make_batch(picked, /*train=*/true, o);
  }

  std::vector<Batch> eval_batches(const std::string& split) override {
    const bool train = split == "train";
    if (!train && split != "val")
      throw UserError("rpn: split '" + split + "' does not exist (val, or train for the fit on training data)");
    std::vector<Batch>& cache = train ? train_eval_batches_ : val_batches_;
    if (cache.empty()) {
      const int64_t n = train ? std::min<int64_t>(train_size_, 64) : val_size_;
      for (int64_t start = 0; start < n; start += o_.eval_batch_size) {
        std::vector<int64_t> picked;
        for (int64_t i = start; i < std::min(n, start + o_.eval_batch_size); ++i) picked.push_back(i);
        cache.push_back(make_batch(picked, train, transform_));
      }
    }
    return cache;
  }

  StepLosses training_step(const Batch& batch) override {
    const RpnOutput out = forward(*net_, batch);
    const RpnTargets t = net_->rpn->training_targets(out, gt_boxes_of(batch));
    const RpnLosses l = rpn_loss(out.objectness, out.pred_deltas, t.labels, t.regression_targets, t.sampled_positive,
                                 t.sampled_negative);
    // Both terms are divided by the number of sampled anchors: that is the unit count.
    const double sampled = static_cast<double>(t.sampled_positive.numel() + t.sampled_negative.numel());
    return {{{"objectness", l.objectness}, {"box_reg", l.box_reg}}, std::max(1.0, sampled)};
  }

  Batch predict(const Batch& batch) override {
    const auto options = batch.at(kImages).options();
    const RpnOutput out = forward(*net_, batch);
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
      const RpnOutput u = forward(*untrained_, batch);
      auto [boxes, n] = pad_boxes(u.boxes, options);
      result[kUntrained] = boxes;
      result[kNumUntrained] = n;
    }
    return result;
  }

  void export_model(const std::string& dir) override {
    net_->eval();
    write_rpn_export(dir, *net_, transform_);
  }

 private:
  static RpnOutput forward(ProposalNetworkImpl& net, const Batch& batch) {
    const auto sizes = batch.at(kSizes).cpu();
    std::vector<ImageSize> image_sizes;
    for (int64_t i = 0; i < sizes.size(0); ++i)
      image_sizes.push_back({sizes[i][0].item<int64_t>(), sizes[i][1].item<int64_t>()});
    return net.forward(batch.at(kImages), image_sizes);
  }

  void load_data(const Config& cfg) {
    const std::string& train_file = o_.train_file;
    const std::string& val_file = o_.val_file;
    const int64_t val_from = o_.val_from_index;
    if (train_file.empty() && val_file.empty()) {
      synth_.width = synth_.height = o_.synthetic_image_size;
      synth_.vary_size = true;
      synth_seed_ = o_.synthetic_seed;
      train_size_ = o_.synthetic_train_size;
      val_size_ = o_.synthetic_val_size;
      cfg.require(val_from == -1, "data.val_from_index", "needs data.train_file or data.val_file");
      return;
    }
    cfg.require(!train_file.empty(), "data.train_file", "is needed with data.val_file");
    DetectionLoadOptions o;
    o.policy = policy_;
    o.max_boxes_per_image = o_.max_boxes_per_image;
    const auto load = [&](const std::string& key, const std::string& path) {
      cfg.require(fs::exists(path), key, "names a file or directory that does not exist: " + path);
      try {
        DetectionDataset data = load_detection_dataset(path, o_.format, o);
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
    return named_batch(make_detection_batch(images, samples, o), indices);
  }

  std::string run_dir_;
  RpnTaskOptions o_;
  DetectionTransformOptions transform_;
  BadBoxPolicy policy_ = BadBoxPolicy::drop;
  DetectionSynthOptions synth_;
  uint64_t synth_seed_ = 0, seed_ = 0;
  std::vector<DetectionSample> train_samples_, val_samples_;
  std::vector<cv::Mat> train_images_, val_images_;
  int64_t train_size_ = 0, val_size_ = 0, batch_size_ = 2;
  std::unique_ptr<EpochSampler> sampler_;
  ProposalNetwork net_{nullptr}, untrained_{nullptr};
  std::vector<Batch> val_batches_, train_eval_batches_;
};

}  // namespace

std::unique_ptr<Task> make_rpn_task(const Config& cfg, const std::string& run_dir, TaskData data) {
  return std::make_unique<RpnTask>(cfg, run_dir, data);
}

TaskEntry rpn_task_entry() {
  return {"rpn", "Faster R-CNN region proposal network: anchors, matching, 256-anchor sampling, NMS proposals",
          rpn_task_defaults, rpn_option_docs, [](const Config& cfg, const std::string& run_dir, TaskData data) {
            return make_rpn_task(cfg, run_dir, data);
          }};
}

}  // namespace zoo
