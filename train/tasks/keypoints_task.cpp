#include "train/tasks/keypoints_task.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/script.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>

#include "data/drawing.h"
#include "data/hand_augment.h"
#include "data/hand_batch.h"
#include "data/image_file.h"
#include "data/hand_formats.h"
#include "data/hand_sample.h"
#include "data/sampling.h"
#include "losses/keypoint_loss.h"
#include "models/keypoint_regressor.h"
#include "io/export_format.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "train/bert_io.h"
#include "train/torchvision_weights.h"
#include "train/plot.h"
#include "train/keypoint_metrics.h"
#include "train/resnet_script.h"
#include "train/tasks/heatmap_model.h"
#include "train/trainer.h"

namespace zoo {

namespace fs = std::filesystem;

Json keypoints_task_defaults() {
  Json j = trainer_defaults();
  j["task"] = "keypoints";
  const ResNetOptions r;
  j["model"] = {{"depth", r.depth},
                {"base_width", r.base_width},
                {"num_stages", r.num_stages},
                {"coord_dims", 3},  // 3: root-relative xyz; 2: image uv
                {"zero_init_residual", r.zero_init_residual}};
  const AugmentOptions a;
  j["data"] = {
      {"train_file", ""},       // empty: synthetic hands; else a manifest .json, FreiHAND dir or .csv
      {"val_file", ""},         // empty: synthetic hands (or the tail of train_file, see below)
      {"val_from_index", -1},   // >= 1: records [i, end) of val_file (else train_file) validate; a
                                // train_file that is that file trains on [0, i) only
      {"csv_xyz_to_mm", 1.0},   // unit of a CSV's coordinates (10 for centimetres)
      {"image_size", 128},
      {"synthetic_train_size", 20000},  // distinct generated hands (seeds) in the training set
      {"synthetic_val_size", 256},
      {"synthetic_seed", 0},  // identity of the generated sets; the val set never overlaps
      {"synthetic_mix_size", 0},  // > 0 (with train_file): that many generated hands join the file's
                                  // training records (a regulariser for small real data sets)
      {"workers", 2},         // loader threads (0 = on the training thread)
      {"skip_bad_images", true},
      {"augment",
       {{"enabled", true},
        {"rotation_deg", a.rotation_deg},
        {"scale_min", a.scale_min},
        {"scale_max", a.scale_max},
        {"translate", a.translate},
        {"center_on_hand", a.center_on_hand},
        {"hand_fill", a.hand_fill},
        {"brightness", a.brightness},
        {"contrast", a.contrast},
        {"saturation", a.saturation},
        {"hue_deg", a.hue_deg}}}};
  const KeypointLossOptions l;
  j["loss"] = {{"kind", l.kind}, {"smooth_l1_beta", l.smooth_l1_beta}};
  j["eval"] = {{"batch_size", 64},
               {"mean_pose_samples", 512},  // training samples averaged into the mean-pose baseline
               {"train_samples", 256},      // size of the "train" split of `zoo eval` (unaugmented)
               {"pictures", true}};         // DIR/plots/examples_<split>.png and pck_<split>.png
  // checkpoint: a run's checkpoints/best.pt (or last.pt): start from its weights.
  // torchvision_weights: a torchvision resnet18/34 state dict (.pth or .safetensors) for the
  // backbone (model.base_width 64; train/torchvision_weights.h).
  j["init"] = {{"checkpoint", ""}, {"torchvision_weights", ""}};
  j["optim"]["lr"] = 1e-3;
  j["optim"]["weight_decay"] = 1e-4;
  j["schedule"]["name"] = "cosine";
  j["schedule"]["warmup_steps"] = 100;
  return j;
}

Json heatmap_task_defaults() {
  Json j = keypoints_task_defaults();
  j["task"] = "heatmap";
  j["model"] = heatmap_model_defaults();
  j["loss"] = heatmap_loss_defaults();
  j["init"].erase("torchvision_weights");  // a plain conv encoder, no ResNet
  return j;
}

void rotate_to_upright_camera(Batch& batch) {
  const torch::Tensor K = batch.at("K");
  const auto d = K.select(1, 1).select(1, 0), e = K.select(1, 1).select(1, 1);
  const auto theta = torch::atan2(d, e);
  const auto c = theta.cos(), s = theta.sin();
  const auto zero = torch::zeros_like(c), one = torch::ones_like(c);
  // R = Rz(theta); rows of xyz become R·x, i.e. xyz · R^T.
  const auto R = torch::stack({c, -s, zero, s, c, zero, zero, zero, one}, 1).view({-1, 3, 3});
  const auto Rt = R.transpose(1, 2);
  batch["K"] = K.matmul(Rt);
  batch["xyz"] = batch.at("xyz").matmul(Rt);
  batch["root_mm"] = batch.at("root_mm").unsqueeze(1).matmul(Rt).squeeze(1);
}

namespace {

const char* const kImage = "image";
const char* const kXyz = "xyz";
const char* const kUv = "uv";
const char* const kVisible = "visible";
const char* const kRoot = "root_mm";
const char* const kScale = "scale_mm";
const char* const kK = "K";
const char* const kKeypoints = "keypoints";  // predict() output [B, 21, D]
const char* const kHeatmaps = "heatmaps";    // predict() output of task heatmap [B, 21, h, w]

constexpr int kExampleCount = 16;  // images in examples_<split>.png

// What a "typical" training hand looks like: the mean-pose baseline, and the assumptions that
// place a root-relative 3D prediction on a bare image (which has no intrinsics, root or scale).
struct PoseStats {
  torch::Tensor mean_xyz;       // [21, 3] mean normalised root-relative pose
  torch::Tensor mean_uv;        // [21, 2] mean normalised uv
  double scale_mm = 0;          // mean wrist -> middle MCP length
  double focal_per_size = 0;    // mean (fx + fy) / 2 / image side
  double extent = 0;            // mean larger side of the joints' 2D box / image side
  int64_t samples = 0;

  Json to_json() const {
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
    return {{"mean_pose_xyz", rows(mean_xyz)}, {"mean_pose_uv", rows(mean_uv)},
            {"scale_mm", scale_mm},           {"focal_per_size", focal_per_size},
            {"extent", extent},               {"samples", samples}};
  }
  static PoseStats from_json(const Json& j) {
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
};

std::vector<cv::Point2d> points_of(const torch::Tensor& t) {  // [21, 2] -> points
  const auto c = t.to(torch::kCPU, torch::kDouble).contiguous();
  std::vector<cv::Point2d> out;
  for (int64_t j = 0; j < c.size(0); ++j) out.emplace_back(c[j][0].item<double>(), c[j][1].item<double>());
  return out;
}

// uv pixels = K · xyz / z for [B, 21, 3] mm and K [B, 3, 3]; z is kept >= 1 mm so that a
// prediction behind the camera gives a far-off point rather than inf/NaN.
torch::Tensor project_mm(const torch::Tensor& xyz_mm, const torch::Tensor& K) {
  const auto q = xyz_mm.matmul(K.transpose(1, 2));
  const auto z = q.narrow(-1, 2, 1).clamp_min(1.0);
  return q.narrow(-1, 0, 2) / z;
}

class KeypointsEvaluator : public Evaluator {
 public:
  // split: read at summarize time (the task sets it in eval_batches, which the callers invoke
  // after make_evaluator). plots_dir empty: no pictures.
  KeypointsEvaluator(int64_t coord_dims, PoseStats stats, std::string plots_dir, const std::string* split)
      : dims_(coord_dims), stats_(std::move(stats)), plots_dir_(std::move(plots_dir)), split_(split) {}

  void reset() override {
    metrics_.reset();
    baseline_.reset();
    examples_.clear();
  }

  void process(const Batch& batch, const Batch& out) override {
    const auto cpu = [](const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat32); };
    const auto pred = cpu(out.at(kKeypoints));
    const auto image = batch.at(kImage);
    const int64_t B = pred.size(0), H = image.size(2), W = image.size(3);
    const auto vis = cpu(batch.at(kVisible)), K = cpu(batch.at(kK));
    const auto gt_px = uv_to_pixels(cpu(batch.at(kUv)), W, H);
    torch::Tensor pred_px, gt_mm, pred_mm;
    if (dims_ == 3) {
      const auto root = cpu(batch.at(kRoot)), scale = cpu(batch.at(kScale));
      gt_mm = xyz_to_mm(cpu(batch.at(kXyz)), root, scale);
      pred_mm = xyz_to_mm(pred, root, scale);
      metrics_.feed(gt_mm, pred_mm, vis);
      // 2D error of the 3D prediction: projected with the true root, scale and intrinsics.
      pred_px = project_mm(pred_mm, K);
      metrics_.feed_2d(gt_px, pred_px, vis);
      const auto mean_mm = xyz_to_mm(stats_.mean_xyz.unsqueeze(0).expand({B, kHandJoints, 3}), root, scale);
      baseline_.feed(gt_mm, mean_mm, vis);
      baseline_.feed_2d(gt_px, project_mm(mean_mm, K), vis);
    } else {
      pred_px = uv_to_pixels(pred, W, H);
      metrics_.feed_2d(gt_px, pred_px, vis);
      baseline_.feed_2d(gt_px, uv_to_pixels(stats_.mean_uv.unsqueeze(0).expand({B, kHandJoints, 2}), W, H), vis);
    }
    for (int64_t b = 0; b < B && static_cast<int>(examples_.size()) < kExampleCount && !plots_dir_.empty(); ++b) {
      const auto m = vis[b] > 0;
      const auto err = dims_ == 3 ? (gt_mm[b] - pred_mm[b]).norm(2, -1) : (gt_px[b] - pred_px[b]).norm(2, -1);
      const double mean_err = m.any().item<bool>() ? err.index({m}).mean().item<double>() : NAN;
      cv::Mat picture = tensor_to_image(image[b]);
      if (out.count(kHeatmaps)) overlay_heatmaps(picture, cpu(out.at(kHeatmaps)[b]));
      examples_.push_back({picture, points_of(gt_px[b]), points_of(pred_px[b]), mean_err});
    }
  }

  Metrics summarize() override {
    const KeypointEvalSummary s = metrics_.summary(), b = baseline_.summary();
    Metrics m;
    if (dims_ == 3) {
      m = {{"mpjpe_mm", s.xyz.mean},
           {"pck_auc", s.xyz.auc},
           {"pa_mpjpe_mm", s.xyz_aligned.mean},
           {"pa_pck_auc", s.xyz_aligned.auc},
           {"epe_2d_px", s.uv.mean},
           {"mean_pose_mpjpe_mm", b.xyz.mean},
           {"mean_pose_pck_auc", b.xyz.auc},
           {"mean_pose_pa_mpjpe_mm", b.xyz_aligned.mean}};
    } else {
      m = {{"epe_2d_px", s.uv.mean}, {"pck_2d_auc", s.uv.auc}, {"mean_pose_epe_2d_px", b.uv.mean}};
    }
    if (!plots_dir_.empty()) write_pictures(s);
    return m;
  }

 private:
  // Blends the keypoints' probability maps [K, h, w] (their maximum, scaled to the peak) over the
  // image as a colour map, so the pictures show where each heatmap put its mass.
  static void overlay_heatmaps(cv::Mat& image, const torch::Tensor& maps) {
    auto peak = std::get<0>(maps.max(0));
    peak = (peak / peak.max().clamp_min(1e-12) * 255).to(torch::kUInt8).contiguous();
    cv::Mat gray(static_cast<int>(peak.size(0)), static_cast<int>(peak.size(1)), CV_8UC1, peak.data_ptr<uint8_t>());
    cv::Mat resized, colour;
    cv::resize(gray, resized, image.size(), 0, 0, cv::INTER_LINEAR);
    cv::applyColorMap(resized, colour, cv::COLORMAP_JET);
    cv::addWeighted(image, 0.55, colour, 0.45, 0.0, image);
  }

  struct Example {
    cv::Mat image;
    std::vector<cv::Point2d> gt, pred;
    double error;
  };

  void write_pictures(const KeypointEvalSummary& s) {
    fs::create_directories(plots_dir_);
    const std::string split = split_ ? *split_ : "val";
    write_pck_plot(plots_dir_ + "/pck_" + split + ".png", s, dims_ == 2);
    if (examples_.empty()) return;
    const int tile = std::max(192, examples_[0].image.cols), cols = 4;
    const int rows = (static_cast<int>(examples_.size()) + cols - 1) / cols;
    cv::Mat grid(rows * tile, cols * tile, CV_8UC3, cv::Scalar(32, 32, 32));
    for (size_t i = 0; i < examples_.size(); ++i) {
      const Example& e = examples_[i];
      const double f = static_cast<double>(tile) / std::max(e.image.cols, e.image.rows);
      cv::Mat big;
      cv::resize(e.image, big, cv::Size(), f, f, cv::INTER_LINEAR);
      const auto scaled = [f](std::vector<cv::Point2d> pts) {
        for (auto& p : pts) p = (p + cv::Point2d(0.5, 0.5)) * f - cv::Point2d(0.5, 0.5);
        return pts;
      };
      draw_skeleton(big, scaled(e.gt), true, 2);
      draw_skeleton(big, scaled(e.pred), false, 2);
      char caption[48];
      std::snprintf(caption, sizeof caption, dims_ == 3 ? "%.1f mm" : "%.1f px", e.error);
      cv::putText(big, caption, cv::Point(6, 18), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
      cv::putText(big, caption, cv::Point(6, 18), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(255, 255, 255), 1,
                  cv::LINE_AA);
      const int r = static_cast<int>(i) / cols, c = static_cast<int>(i) % cols;
      big(cv::Rect(0, 0, std::min(tile, big.cols), std::min(tile, big.rows)))
          .copyTo(grid(cv::Rect(c * tile, r * tile, std::min(tile, big.cols), std::min(tile, big.rows))));
    }
    write_png(plots_dir_ + "/examples_" + split + ".png", grid);
  }

  int64_t dims_;
  PoseStats stats_;
  std::string plots_dir_;
  const std::string* split_;
  KeypointMetrics metrics_, baseline_;
  std::vector<Example> examples_;
};

// A source of every stride-th sample (n of them), so that statistics cover the whole set.
HandSource spaced_source(const HandSource& source, int64_t n) {
  const int64_t size = source.size;
  auto get = source.get;
  return {n, [get, size, n](int64_t i) { return get(i * size / n); }};
}

class KeypointsTask : public Task {
 public:
  // heatmap: task "heatmap" (2D, HeatmapKeypointModel), else the ResNet regressor.
  KeypointsTask(const Config& cfg, const std::string& run_dir, bool heatmap, TaskData data)
      : run_dir_(run_dir), data_(data) {
    if (heatmap) {
      heatmap_options_ = heatmap_model_options(cfg);
      model_options_.coord_dims = 2;
    } else {
      read_regressor_options(cfg);
    }
    read_data_options(cfg);
    torch::manual_seed(seed_);  // parameter init
    if (heatmap)
      heatmap_ = HeatmapKeypointModel(heatmap_options_);
    else
      model_ = KeypointRegressor(model_options_);

    const std::string init = cfg.at("init.checkpoint").get<std::string>();
    // A run that has its own checkpoints gets its weights from them (resume, eval, export): the
    // initial checkpoint is needed, and read, only when a run starts.
    const bool has_own = run_has_checkpoint(run_dir_);
    if (!init.empty() && !has_own) {
      cfg.require(fs::is_regular_file(init), "init.checkpoint", "names a file that does not exist: " + init);
      load_model_weights(model(), init);
      std::cout << name() << ": model initialised from " << init << "\n";
    }
    if (!heatmap) {
      const std::string tv = cfg.at("init.torchvision_weights").get<std::string>();
      cfg.require(tv.empty() || init.empty(), "init.torchvision_weights", "and init.checkpoint exclude each other");
      if (!tv.empty() && !has_own) {
        cfg.require(fs::is_regular_file(tv), "init.torchvision_weights", "names a file that does not exist: " + tv);
        load_torchvision_resnet(tv, *model_->backbone);
        std::cout << name() << ": backbone initialised from " << tv << "\n";
      }
    }
  }

  void read_regressor_options(const Config& cfg) {
    const Json& m = cfg.at("model");
    KeypointRegressorOptions mo;
    mo.backbone.depth = m.at("depth").get<int64_t>();
    mo.backbone.base_width = m.at("base_width").get<int64_t>();
    mo.backbone.num_stages = m.at("num_stages").get<int64_t>();
    mo.backbone.zero_init_residual = m.at("zero_init_residual").get<bool>();
    mo.coord_dims = m.at("coord_dims").get<int64_t>();
    cfg.require(mo.backbone.depth == 18 || mo.backbone.depth == 34, "model.depth", "must be 18 or 34");
    cfg.require(mo.backbone.base_width > 0 && mo.backbone.base_width <= 1024, "model.base_width",
                "must be in [1, 1024]");
    cfg.require(mo.backbone.num_stages >= 1 && mo.backbone.num_stages <= 4, "model.num_stages", "must be in 1..4");
    cfg.require(mo.coord_dims == 2 || mo.coord_dims == 3, "model.coord_dims", "must be 2 or 3");
    model_options_ = mo;
    const Json& l = cfg.at("loss");
    loss_.kind = l.at("kind").get<std::string>();
    loss_.smooth_l1_beta = l.at("smooth_l1_beta").get<double>();
    cfg.require(loss_.kind == "euclidean" || loss_.kind == "l1" || loss_.kind == "mse" || loss_.kind == "smooth_l1",
                "loss.kind", "must be euclidean, l1, mse or smooth_l1");
    cfg.require(loss_.smooth_l1_beta >= 0, "loss.smooth_l1_beta", "must be >= 0");
  }

  void read_data_options(const Config& cfg) {
    const Json& d = cfg.at("data");
    image_size_ = d.at("image_size").get<int>();
    cfg.require(image_size_ >= 32 && image_size_ <= 2048, "data.image_size", "must be in [32, 2048]");
    workers_ = d.at("workers").get<int>();
    cfg.require(workers_ >= 0 && workers_ <= 64, "data.workers", "must be in [0, 64]");
    skip_bad_images_ = d.at("skip_bad_images").get<bool>();
    const Json& a = d.at("augment");
    augment_ = a.at("enabled").get<bool>();
    aug_.rotation_deg = a.at("rotation_deg").get<double>();
    aug_.scale_min = a.at("scale_min").get<double>();
    aug_.scale_max = a.at("scale_max").get<double>();
    aug_.translate = a.at("translate").get<double>();
    aug_.center_on_hand = a.at("center_on_hand").get<bool>();
    aug_.hand_fill = a.at("hand_fill").get<double>();
    aug_.brightness = a.at("brightness").get<double>();
    aug_.contrast = a.at("contrast").get<double>();
    aug_.saturation = a.at("saturation").get<double>();
    aug_.hue_deg = a.at("hue_deg").get<double>();
    cfg.require(aug_.rotation_deg >= 0 && aug_.rotation_deg <= 180, "data.augment.rotation_deg", "must be in [0, 180]");
    cfg.require(aug_.scale_min > 0 && aug_.scale_max >= aug_.scale_min, "data.augment.scale_min",
                "and data.augment.scale_max need 0 < scale_min <= scale_max");
    cfg.require(aug_.translate >= 0 && aug_.translate <= 1, "data.augment.translate", "must be in [0, 1]");
    cfg.require(aug_.hand_fill >= 0 && aug_.hand_fill <= 1, "data.augment.hand_fill", "must be in [0, 1]");
    cfg.require(aug_.hand_fill == 0 || aug_.center_on_hand, "data.augment.hand_fill",
                "> 0 needs data.augment.center_on_hand = true");
    for (const char* key : {"brightness", "contrast", "saturation"})
      cfg.require(a.at(key).get<double>() >= 0 && a.at(key).get<double>() < 1, std::string("data.augment.") + key,
                  "must be in [0, 1)");
    cfg.require(aug_.hue_deg >= 0 && aug_.hue_deg <= 180, "data.augment.hue_deg", "must be in [0, 180]");

    const std::string train_file = d.at("train_file").get<std::string>();
    const std::string val_file = d.at("val_file").get<std::string>();
    const int64_t val_from = d.at("val_from_index").get<int64_t>();
    const double csv_to_mm = d.at("csv_xyz_to_mm").get<double>();
    cfg.require(csv_to_mm > 0, "data.csv_xyz_to_mm", "must be > 0");
    const int64_t synth_train = d.at("synthetic_train_size").get<int64_t>();
    const int64_t synth_val = d.at("synthetic_val_size").get<int64_t>();
    const uint64_t synth_seed = d.at("synthetic_seed").get<uint64_t>();
    cfg.require(synth_train > 0, "data.synthetic_train_size", "must be > 0");
    cfg.require(synth_val > 0, "data.synthetic_val_size", "must be > 0");
    const int64_t synth_mix = d.at("synthetic_mix_size").get<int64_t>();
    cfg.require(synth_mix >= 0, "data.synthetic_mix_size", "must be >= 0");
    cfg.require(synth_mix == 0 || !train_file.empty(), "data.synthetic_mix_size",
                "needs data.train_file (generated hands mixed into a data set on disk)");
    const auto load = [&](const std::string& key, const std::string& path) {
      cfg.require(fs::exists(path), key, "names a file or directory that does not exist: " + path);
      try {
        if (fs::path(path).extension() == ".csv") return load_hand_csv(path, csv_to_mm);
        return load_hand_records(path);
      } catch (const std::exception& e) {
        cfg.fail(key, std::string("cannot be loaded: ") + e.what());
      }
    };
    std::vector<HandRecord> train_records, val_records;
    const bool read = data_ == TaskData::kLoad;  // export and predict read no samples
    if (read && !train_file.empty()) train_records = load("data.train_file", train_file);
    if (read && !val_file.empty()) val_records = load("data.val_file", val_file);
    if (read && val_from != -1) {
      cfg.require(val_from >= 1, "data.val_from_index", "must be -1 (off) or >= 1");
      // The validation block is the tail of val_file, or of train_file without one; a training file
      // that is the split file keeps only the head, so the two blocks never overlap.
      cfg.require(!train_file.empty() || !val_file.empty(), "data.val_from_index",
                  "needs data.train_file or data.val_file (the file to split)");
      const bool split_train = val_file.empty() || val_file == train_file;
      std::vector<HandRecord>& split = split_train ? train_records : val_records;
      const std::string& split_file = split_train ? train_file : val_file;
      cfg.require(val_from >= 1 && val_from < static_cast<int64_t>(split.size()), "data.val_from_index",
                  "must leave both blocks non-empty: " + split_file + " has " + std::to_string(split.size()) +
                      " samples");
      val_records.assign(split.begin() + val_from, split.end());
      if (split_train) train_records.resize(static_cast<size_t>(val_from));
    }
    train_source_ = train_records.empty() ? synthetic_source(synth_train, synth_seed, image_size_)
                                          : records_source(std::move(train_records));
    // Statistics (mean pose) and the "train" split describe the data set proper, without the mix.
    stats_source_ = train_source_;
    if (synth_mix > 0) {
      // Records first, then the generated hands; the epoch permutation interleaves them.
      const HandSource file = train_source_, synth = synthetic_source(synth_mix, synth_seed, image_size_);
      train_source_ = {file.size + synth_mix, [file, synth](int64_t i) {
                         return i < file.size ? file.get(i) : synth.get(i - file.size);
                       }};
    }
    // The generated val set: hands of another seed stream than the training set's.
    val_source_ = val_records.empty()
                      ? synthetic_source(synth_val, mix_seed(synth_seed, 0x76616C5F68616E64ull), image_size_)
                      : records_source(std::move(val_records));

    const Json& e = cfg.at("eval");
    eval_batch_size_ = e.at("batch_size").get<int64_t>();
    mean_pose_samples_ = e.at("mean_pose_samples").get<int64_t>();
    eval_train_samples_ = e.at("train_samples").get<int64_t>();
    pictures_ = e.at("pictures").get<bool>();
    cfg.require(eval_batch_size_ > 0, "eval.batch_size", "must be > 0");
    cfg.require(mean_pose_samples_ > 0, "eval.mean_pose_samples", "must be > 0");
    cfg.require(eval_train_samples_ > 0, "eval.train_samples", "must be > 0");

    const TrainOptions train = train_options(cfg);
    batch_size_ = train.batch_size;
    seed_ = static_cast<uint64_t>(train.seed);
    // What the pose statistics depend on (DIR/pose_stats.json is reused only if it matches).
    stats_key_ = {{"data", d}, {"mean_pose_samples", mean_pose_samples_}};
    stats_key_["data"].erase("workers");
    stats_key_["data"].erase("augment");
  }

  std::string name() const override { return heatmap_ ? "heatmap" : "keypoints"; }

  Json data_report() const override {
    std::map<int64_t, std::string> train = train_skipped_;
    if (loader_) train.merge(loader_->skipped());
    Json report = Json::object();
    if (!train.empty()) {
      report["train"] = {{"samples", train_source_.size}, {"skipped", Json::array()}};
      for (const auto& entry : train) report["train"]["skipped"].push_back(entry.second);
    }
    if (!val_skipped_.empty()) report["val"] = {{"samples", val_source_.size}, {"skipped", val_skipped_}};
    return report;
  }
  torch::nn::Module& model() override {
    if (heatmap_) return *heatmap_;
    return *model_;
  }
  PrimaryMetric primary_metric() const override {
    return model_options_.coord_dims == 3 ? PrimaryMetric{"mpjpe_mm", false} : PrimaryMetric{"epe_2d_px", false};
  }

  std::unique_ptr<Evaluator> make_evaluator() override {
    const std::string plots = pictures_ && !run_dir_.empty() ? run_dir_ + "/plots" : "";
    return std::make_unique<KeypointsEvaluator>(model_options_.coord_dims, pose_stats(), plots, &eval_split_);
  }

  // Batch i of the endless augmented stream (HandLoader: a pure function of train.seed and i).
  // Indices that follow on by the stride come from the prefetching workers; any other index
  // restarts them there.
  void set_train_batch_stride(int64_t stride) override {
    batch_stride_ = stride;
    loader_.reset();
  }
  Batch train_batch(int64_t index) override {
    if (!loader_ || index != next_index_) {
      note_training_skips();
      loader_.reset();
      if (workers_ > 0) cv::setNumThreads(0);  // OpenCV's pool would compete with the workers
      HandLoaderOptions o;
      o.batch_size = batch_size_;
      o.image_size = image_size_;
      o.augment = augment_;
      o.augment_options = aug_;
      o.shuffle = true;
      o.seed = seed_;
      o.num_workers = workers_;
      o.skip_bad_images = skip_bad_images_;
      o.first_batch = index;
      o.batch_stride = batch_stride_;
      loader_ = std::make_unique<HandLoader>(train_source_, o);
    }
    Batch b = loader_->next();
    next_index_ = index + batch_stride_;
    rotate_to_upright_camera(b);
    return b;
  }

  std::vector<Batch> eval_batches(const std::string& split) override {
    eval_split_ = split;
    if (split == "val") {
      if (val_batches_.empty()) {
        std::vector<std::string> skipped;
        val_batches_ = fixed_batches(val_source_, val_source_.size, eval_batch_size_, image_size_, workers_,
                                     skip_bad_images_, &skipped);
        if (!skipped.empty())
          std::cerr << "warning: " << skipped.size() << " of " << val_source_.size
                    << " validation samples could not be loaded (named above); the metrics leave them out\n";
        val_skipped_ = std::move(skipped);
      }
      return val_batches_;
    }
    if (split == "train") {  // unaugmented, every k-th training sample: how well the model fits
      if (train_eval_batches_.empty()) {
        const int64_t n = std::min(eval_train_samples_, stats_source_.size);
        train_eval_batches_ = fixed_batches(spaced_source(stats_source_, n), n, eval_batch_size_, image_size_,
                                            workers_, skip_bad_images_);
      }
      return train_eval_batches_;
    }
    throw UserError("keypoints: split '" + split + "' does not exist (val, or train for the fit on training data)");
  }

  StepLosses training_step(const Batch& batch) override {
    if (heatmap_) {
      const torch::Tensor& visible = batch.at(kVisible);
      const torch::Tensor loss = heatmap_->loss(batch.at(kImage), batch.at(kUv), visible);
      return {{{heatmap_options_.head == "per_axis" ? "cross_entropy" : "coords", loss}}, visible.sum().item<double>()};
    }
    const torch::Tensor pred = model_->forward(batch.at(kImage));
    const torch::Tensor& target = batch.at(model_options_.coord_dims == 3 ? kXyz : kUv);
    const torch::Tensor& visible = batch.at(kVisible);
    // The Euclidean loss is a mean over visible keypoints: that is the unit count.
    return {{{kKeypoints, keypoint_loss(pred, target, visible, loss_)}}, visible.sum().item<double>()};
  }

  Batch predict(const Batch& batch) override {
    if (heatmap_) {
      const auto out = heatmap_->forward(batch.at(kImage));
      return {{kKeypoints, out.coords}, {kHeatmaps, out.heatmaps}};
    }
    return {{kKeypoints, model_->forward(batch.at(kImage))}};
  }

  void export_model(const std::string& dir) override {
    if (heatmap_) return export_heatmap_model(dir);
    fs::create_directories(dir);
    model_->eval();
    export_torchscript(dir + "/model.pt");
    std::vector<std::pair<std::string, torch::Tensor>> weights;
    for (const auto& [name, tensor] : torchvision_names()) weights.emplace_back(name, tensor);
    write_torch_tensor_dict(dir + "/weights.pt", weights);
    write_safetensors(dir + "/weights.safetensors", weights);
    const PoseStats stats = pose_stats();
    const auto& b = model_options_.backbone;
    const bool tv = b.num_stages == 4 && b.base_width == 64;
    const int64_t D = model_options_.coord_dims;
    Json output = {{"shape", {-1, kHandJoints, D}}, {"dtype", "float32"}};
    if (D == 3) {
      output["coordinates"] = "root-relative, scale-normalised camera-space xyz";
      output["to_mm"] =
          "xyz_mm = out * scale_mm + root_mm, with root_mm = xyz_mm[wrist] and scale_mm = |xyz_mm[middle_mcp] - "
          "xyz_mm[wrist]| (x right, y down, z forward); without them, out * typical_scale_mm is the root-relative "
          "pose of a typical training hand in mm";
    } else {
      output["coordinates"] = "normalised uv, align_corners=False: u_px = ((x + 1) * W - 1) / 2, "
                              "v_px = ((y + 1) * H - 1) / 2";
    }
    write_json_file(
        dir + "/meta.json",
        {{"task", "keypoints"},
         {"format_version", kExportFormatVersion},
         {"model", "model.pt"},
         {"weights", "weights.pt"},
         {"input", input_meta()},
         {"output", output},
         {"keypoint_names", kHandJointNames},
         {"parents", kHandParent},
         {"typical_scale_mm", stats.scale_mm},
         {"typical_focal_per_image_size", stats.focal_per_size},
         // How zoo::infer::HandPose places a root-relative 3D pose on a bare image.
         {"placement", {{"scale_mm", stats.scale_mm},
                        {"focal_per_image_size", stats.focal_per_size},
                        {"extent_per_image_size", stats.extent}}},
         {"mean_training_pose", D == 3 ? stats.to_json().at("mean_pose_xyz") : stats.to_json().at("mean_pose_uv")},
         {"architecture",
          {{"backbone", "ResNet (BasicBlock), torchvision layout"},
           {"depth", b.depth},
           {"base_width", b.base_width},
           {"num_stages", b.num_stages},
           {"head", "global average pool -> Linear(C, 21 * coord_dims)"},
           {"coord_dims", D},
           {"torchvision", tv ? "weights.pt loads into torchvision.models.resnet" + std::to_string(b.depth) +
                                    "(num_classes=" + std::to_string(kHandJoints * D) +
                                    ") with load_state_dict(strict=True); output.view(-1, 21, " +
                                    std::to_string(D) + ")"
                              : "no torchvision equivalent (base_width != 64 or num_stages != 4); weights.pt "
                                "uses torchvision's parameter names"}}}});
  }

 private:
  // meta.json's "input": what an exported model expects (both tasks).
  Json input_meta() const {
    return {{"shape", {-1, 3, image_size_, image_size_}},
            {"dtype", "float32"},
            {"layout", "NCHW, RGB"},
            {"normalisation", "(pixel / 255 - mean) / std per channel"},
            {"mean", {decimal(kImageNetMean[0]), decimal(kImageNetMean[1]), decimal(kImageNetMean[2])}},
            {"std", {decimal(kImageNetStd[0]), decimal(kImageNetStd[1]), decimal(kImageNetStd[2])}},
            {"image_size", image_size_},
            {"preprocessing", "a square crop around the hand resized to image_size x image_size, like the "
                              "training images (cv::resize, INTER_AREA when shrinking)"}};
  }

  void export_heatmap_model(const std::string& dir) {
    fs::create_directories(dir);
    heatmap_->eval();
    heatmap_->export_torchscript(dir + "/model.pt");
    std::vector<std::pair<std::string, torch::Tensor>> weights;
    for (const auto& p : heatmap_->named_parameters()) weights.emplace_back(p.key(), p.value().detach().cpu());
    for (const auto& b : heatmap_->named_buffers()) weights.emplace_back(b.key(), b.value().detach().cpu());
    write_torch_tensor_dict(dir + "/weights.pt", weights);
    write_safetensors(dir + "/weights.safetensors", weights);
    const double scale = heatmap_->net->output_scale();
    const auto side = static_cast<int64_t>(std::lround(image_size_ * scale));
    const auto& o = heatmap_options_;
    write_json_file(
        dir + "/meta.json",
        {{"task", "heatmap"},
         {"format_version", kExportFormatVersion},
         {"model", "model.pt"},
         {"weights", "weights.pt"},
         {"input", input_meta()},
         {"output",
          {{"returns", "(coords, heatmaps)"},
           {"coords", {{"shape", {-1, kHandJoints, 2}},
                       {"coordinates", "normalised (x, y), align_corners=False: u_px = ((x + 1) * W - 1) / 2, "
                                       "v_px = ((y + 1) * H - 1) / 2 in pixels of the input image"}}},
           {"heatmaps", {{"shape", {-1, kHandJoints, side, side}},
                         {"meaning", o.head == "soft_argmax"
                                         ? "spatial softmax of the logits times beta; coords is its expectation"
                                         : "outer product of the per-axis softmaxes; coords is their expectation"}}}}},
         {"keypoint_names", kHandJointNames},
         {"parents", kHandParent},
         {"architecture",
          {{"encoder_channels", o.net.encoder_channels},
           {"decoder_channels", o.net.decoder_channels},
           {"decoder", o.net.decoder},
           {"head", o.head},
           {"beta", heatmap_->soft_argmax->beta()}}}});
  }

  // The training set's pose statistics: computed once from eval.mean_pose_samples unaugmented
  // training samples spread over the set, cached in DIR/pose_stats.json.
  PoseStats pose_stats() {
    if (stats_) return *stats_;
    const std::string path = run_dir_.empty() ? "" : run_dir_ + "/pose_stats.json";
    if (!path.empty() && fs::exists(path)) {
      try {
        // Without data (export, predict) the run's statistics are the ones its model learned with.
        const Json j = read_json_file(path);
        if (data_ == TaskData::kNone || j.at("key") == stats_key_) stats_ = PoseStats::from_json(j.at("stats"));
      } catch (const std::exception&) {  // unreadable: computed again below
      }
      if (stats_) return *stats_;
    }
    if (data_ == TaskData::kNone)
      throw UserError(path + ": missing or unreadable, and export and predict read no training data to compute the "
                             "pose statistics again (run `zoo eval --run " + run_dir_ + "` with the data once)");
    const int64_t n = std::min(mean_pose_samples_, stats_source_.size);
    PoseStats s;
    torch::Tensor xyz_sum = torch::zeros({kHandJoints, 3}, torch::kDouble);
    torch::Tensor uv_sum = torch::zeros({kHandJoints, 2}, torch::kDouble);
    double scale = 0, focal = 0, extent = 0;
    for (const Batch& b : fixed_batches(spaced_source(stats_source_, n), n, eval_batch_size_, image_size_, workers_,
                                        skip_bad_images_)) {
      xyz_sum += b.at(kXyz).to(torch::kDouble).sum(0);
      uv_sum += b.at(kUv).to(torch::kDouble).sum(0);
      scale += b.at(kScale).to(torch::kDouble).sum().item<double>();
      const auto K = b.at(kK).to(torch::kDouble);
      focal += (K.select(1, 0).select(1, 0) + K.select(1, 1).select(1, 1)).sum().item<double>() / 2 / image_size_;
      // The joints' 2D box in normalised coordinates spans 2: half the larger side is the fraction.
      const auto uv = b.at(kUv).to(torch::kDouble);
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
    stats_ = s;
    if (!path.empty() && fs::is_directory(run_dir_)) write_json_file(path, {{"key", stats_key_}, {"stats", s.to_json()}});
    return s;
  }

  // (torchvision name, tensor): the regressor's parameters and buffers without "backbone.".
  std::vector<std::pair<std::string, torch::Tensor>> torchvision_names() {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    const auto add = [&](const std::string& name, const torch::Tensor& t) {
      const std::string prefix = "backbone.";
      out.emplace_back(name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name, t.detach().cpu());
    };
    for (const auto& p : model_->named_parameters()) add(p.key(), p.value());
    for (const auto& b : model_->named_buffers()) add(b.key(), b.value());
    return out;
  }

  // TorchScript without a Python resolver (train/resnet_script.h): attributes named as
  // torchvision's parameters with dots -> underscores, and a forward written with ATen ops.
  void export_torchscript(const std::string& path) {
    torch::jit::Module module("__torch__.ZooKeypointRegressor");
    module.register_attribute("training", c10::BoolType::get(), false);
    std::ostringstream s;
    s << "def forward(self, x: Tensor) -> Tensor:\n";
    s << resnet_script(module, *model_->backbone, "", "x", "x");
    module.register_parameter("fc_weight", model_->fc->weight.detach().clone(), /*is_buffer=*/false);
    module.register_parameter("fc_bias", model_->fc->bias.detach().clone(), /*is_buffer=*/false);
    s << "    x = torch.linear(x.mean([2, 3]), self.fc_weight, self.fc_bias)\n";
    s << "    return x.reshape([-1, " << kHandJoints << ", " << model_options_.coord_dims << "])\n";
    module.define(s.str());
    std::ostringstream bytes;
    module.save(bytes);
    const std::string data = bytes.str();
    atomic_write(path, [&](const ByteSink& sink) { sink(data.data(), data.size()); });
  }

  // What a loader skipped before it was replaced (resume, a new stride); see data_report().
  void note_training_skips() {
    if (loader_) train_skipped_.merge(loader_->skipped());
  }

  std::string run_dir_;
  TaskData data_ = TaskData::kLoad;
  std::map<int64_t, std::string> train_skipped_;
  std::vector<std::string> val_skipped_;
  KeypointRegressorOptions model_options_;
  int image_size_ = 128, workers_ = 2;
  bool skip_bad_images_ = true, augment_ = true, pictures_ = true;
  AugmentOptions aug_;
  HandSource train_source_, val_source_, stats_source_;
  KeypointLossOptions loss_;
  int64_t batch_size_ = 32, eval_batch_size_ = 64, mean_pose_samples_ = 512, eval_train_samples_ = 256;
  uint64_t seed_ = 0;
  Json stats_key_;
  KeypointRegressor model_{nullptr};
  HeatmapModelOptions heatmap_options_;
  HeatmapKeypointModel heatmap_{nullptr};  // task "heatmap": used instead of model_
  std::unique_ptr<HandLoader> loader_;
  int64_t next_index_ = -1;
  int64_t batch_stride_ = 1;
  std::string eval_split_ = "val";
  std::vector<Batch> val_batches_, train_eval_batches_;
  std::optional<PoseStats> stats_;
};

}  // namespace

std::unique_ptr<Task> make_heatmap_task(const Config& cfg, const std::string& run_dir, TaskData data) {
  return std::make_unique<KeypointsTask>(cfg, run_dir, /*heatmap=*/true, data);
}

std::unique_ptr<Task> make_keypoints_task(const Config& cfg, const std::string& run_dir, TaskData data) {
  return std::make_unique<KeypointsTask>(cfg, run_dir, /*heatmap=*/false, data);
}

}  // namespace zoo
