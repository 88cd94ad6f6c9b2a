#include "train/tasks/hand/task.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <opencv2/core.hpp>

#include "data/hand_formats.h"
#include "data/sampling.h"
#include "io/user_file.h"
#include "train/tasks/hand/evaluator.h"
#include "train/trainer.h"

namespace zoo {

namespace fs = std::filesystem;

namespace {

// A source of every stride-th sample (n of them), so that statistics cover the whole set.
HandSource spaced_source(const HandSource& source, int64_t n) {
  const int64_t size = source.size;
  auto get = source.get;
  return {n, [get, size, n](int64_t i) { return get(i * size / n); }};
}

}  // namespace

HandTask::HandTask(const Config& cfg, const std::string& run_dir, TaskData data, int64_t coord_dims)
    : run_dir_(run_dir), o_(HandDataOptions::table().read(cfg)), coord_dims_(coord_dims), data_(data) {
  const std::string& train_file = o_.train_file;
  const std::string& val_file = o_.val_file;
  const int64_t val_from = o_.val_from_index;
  const auto load = [&](const std::string& key, const std::string& path) {
    cfg.require(fs::exists(path), key, "names a file or directory that does not exist: " + path);
    try {
      if (fs::path(path).extension() == ".csv") return load_hand_csv(path, o_.csv_xyz_to_mm);
      return load_hand_records(path);
    } catch (const std::exception& e) {
      cfg.fail(key, std::string("cannot be loaded: ") + e.what());
    }
  };
  std::vector<HandRecord> train_records, val_records;
  const bool read = data == TaskData::kLoad;  // export and predict read no samples
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
    cfg.require(
        val_from >= 1 && val_from < static_cast<int64_t>(split.size()), "data.val_from_index",
        "must leave both blocks non-empty: " + split_file + " has " + std::to_string(split.size()) + " samples");
    val_records.assign(split.begin() + val_from, split.end());
    if (split_train) train_records.resize(static_cast<size_t>(val_from));
  }
  train_source_ = train_records.empty() ? synthetic_source(o_.synthetic_train_size, o_.synthetic_seed, o_.image_size)
                                        : records_source(std::move(train_records));
  // Statistics (mean pose) and the "train" split describe the data set proper, without the mix.
  stats_source_ = train_source_;
  if (o_.synthetic_mix_size > 0) {
    // Records first, then the generated hands; the epoch permutation interleaves them.
    const HandSource file = train_source_,
                     synth = synthetic_source(o_.synthetic_mix_size, o_.synthetic_seed, o_.image_size);
    train_source_ = {file.size + o_.synthetic_mix_size,
                     [file, synth](int64_t i) { return i < file.size ? file.get(i) : synth.get(i - file.size); }};
  }
  // The generated val set: hands of another seed stream than the training set's.
  val_source_ =
      val_records.empty()
          ? synthetic_source(o_.synthetic_val_size, mix_seed(o_.synthetic_seed, 0x76616C5F68616E64ull), o_.image_size)
          : records_source(std::move(val_records));

  const TrainOptions train = train_options(cfg);
  batch_size_ = train.batch_size;
  seed_ = static_cast<uint64_t>(train.seed);
  stats_key_ = {{"data", cfg.at("data")}, {"mean_pose_samples", o_.mean_pose_samples}};
  stats_key_["data"].erase("workers");
  stats_key_["data"].erase("augment");
}

void HandTask::load_initial_checkpoint(const Config& cfg) {
  const std::string& init = o_.init_checkpoint;
  // A run that has its own checkpoints gets its weights from them (resume, eval, export): the
  // initial checkpoint is needed, and read, only when a run starts.
  if (init.empty() || run_has_checkpoint(run_dir_)) return;
  cfg.require(fs::is_regular_file(init), "init.checkpoint", describe_named_file(init));
  load_model_weights(model(), init);
  std::cout << name() << ": model initialised from " << init << "\n";
}

Json HandTask::data_report() const {
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

PrimaryMetric HandTask::primary_metric() const {
  return coord_dims_ == 3 ? PrimaryMetric{"mpjpe_mm", false} : PrimaryMetric{"epe_2d_px", false};
}

std::unique_ptr<Evaluator> HandTask::make_evaluator(const std::string& split) {
  const std::string plots = o_.pictures && !run_dir_.empty() ? run_dir_ + "/plots" : "";
  return std::make_unique<KeypointsEvaluator>(coord_dims_, pose_stats(), plots, split);
}

void HandTask::set_train_batch_stride(int64_t stride) {
  batch_stride_ = stride;
  loader_.reset();
}

// Indices that follow on by the stride come from the prefetching workers; any other index
// restarts them there.
Batch HandTask::train_batch(int64_t index) {
  if (!loader_ || index != next_index_) {
    note_training_skips();
    loader_.reset();
    if (o_.workers > 0) cv::setNumThreads(0);  // OpenCV's pool would compete with the workers
    HandLoaderOptions o;
    o.batch_size = batch_size_;
    o.image_size = o_.image_size;
    o.augment = o_.augment;
    o.augment_options = o_.aug;
    o.shuffle = true;
    o.seed = seed_;
    o.num_workers = o_.workers;
    o.skip_bad_images = o_.skip_bad_images;
    o.first_batch = index;
    o.batch_stride = batch_stride_;
    loader_ = std::make_unique<HandLoader>(train_source_, o);
  }
  Batch b = loader_->next();
  next_index_ = index + batch_stride_;
  rotate_to_upright_camera(b);
  return b;
}

std::vector<Batch> HandTask::eval_batches(const std::string& split) {
  if (split == "val") {
    if (val_batches_.empty()) {
      std::vector<std::string> skipped;
      val_batches_ = fixed_batches(val_source_, val_source_.size, o_.eval_batch_size, o_.image_size, o_.workers,
                                   o_.skip_bad_images, &skipped);
      if (!skipped.empty())
        std::cerr << "warning: " << skipped.size() << " of " << val_source_.size
                  << " validation samples could not be loaded (named above); the metrics leave them out\n";
      val_skipped_ = std::move(skipped);
    }
    return val_batches_;
  }
  if (split == "train") {  // unaugmented, every k-th training sample: how well the model fits
    if (train_eval_batches_.empty()) {
      const int64_t n = std::min(o_.eval_train_samples, stats_source_.size);
      train_eval_batches_ = fixed_batches(spaced_source(stats_source_, n), n, o_.eval_batch_size, o_.image_size,
                                          o_.workers, o_.skip_bad_images);
    }
    return train_eval_batches_;
  }
  throw UserError("keypoints: split '" + split + "' does not exist (val, or train for the fit on training data)");
}

PoseStats HandTask::pose_stats() {
  if (stats_) return *stats_;
  const std::string path = run_dir_.empty() ? "" : run_dir_ + "/pose_stats.json";
  if (!path.empty() && std::filesystem::exists(path)) {
    try {
      // Without data (export, predict) the run's statistics are the ones its model learned with.
      const Json j = read_json_file(path);
      if (data_ == TaskData::kNone || j.at("key") == stats_key_) stats_ = PoseStats::from_json(j.at("stats"));
    } catch (const std::exception&) {  // unreadable: computed again below
    }
    if (stats_) return *stats_;
  }
  if (data_ == TaskData::kNone)
    throw UserError(path +
                    ": missing or unreadable, and export and predict read no training data to compute the "
                    "pose statistics again (run `zoo eval --run " +
                    run_dir_ + "` with the data once)");
  const int64_t n = std::min(o_.mean_pose_samples, stats_source_.size);
  const PoseStats s = pose_stats_of(fixed_batches(spaced_source(stats_source_, n), n, o_.eval_batch_size, o_.image_size,
                                                  o_.workers, o_.skip_bad_images),
                                    o_.image_size);
  stats_ = s;
  if (!path.empty() && std::filesystem::is_directory(run_dir_))
    write_json_file(path, {{"key", stats_key_}, {"stats", s.to_json()}});
  return s;
}

Json HandTask::input_meta() const {
  return {{"shape", {-1, 3, o_.image_size, o_.image_size}},
          {"dtype", "float32"},
          {"layout", "NCHW, RGB"},
          {"normalisation", "(pixel / 255 - mean) / std per channel"},
          {"mean", {decimal(kImageNetMean[0]), decimal(kImageNetMean[1]), decimal(kImageNetMean[2])}},
          {"std", {decimal(kImageNetStd[0]), decimal(kImageNetStd[1]), decimal(kImageNetStd[2])}},
          {"image_size", o_.image_size},
          {"preprocessing",
           "a square crop around the hand resized to image_size x image_size, like the "
           "training images (cv::resize, INTER_AREA when shrinking)"}};
}

void HandTask::note_training_skips() {
  if (loader_) train_skipped_.merge(loader_->skipped());
}

}  // namespace zoo
