#include "train/tasks/keypoints/task.h"

#include <filesystem>
#include <iostream>

#include "losses/keypoint_loss.h"
#include "models/keypoint_regressor.h"
#include "train/tasks/hand/evaluator.h"
#include "train/tasks/hand/task.h"
#include "train/tasks/keypoints/export.h"
#include "io/formats/torchvision_resnet.h"
#include "io/user_file.h"
#include "train/trainer.h"

namespace zoo {

namespace {

using namespace hand_key;

class KeypointsTask : public HandTask {
 public:
  KeypointsTask(const Config& cfg, const std::string& run_dir, TaskData data)
      : KeypointsTask(cfg, run_dir, data, KeypointsOptions::table().read(cfg)) {}

  std::string name() const override { return "keypoints"; }
  torch::nn::Module& model() override { return *model_; }

  StepLosses training_step(const Batch& batch) override {
    const torch::Tensor pred = model_->forward(batch.at(kImage));
    const torch::Tensor& target = batch.at(options_.coord_dims == 3 ? kXyz : kUv);
    const torch::Tensor& visible = batch.at(kVisible);
    // The Euclidean loss is a mean over visible keypoints: that is the unit count.
    return {{{kKeypointsOutput, keypoint_loss(pred, target, visible, options_.loss)}}, visible.sum().item<double>()};
  }

  Batch predict(const Batch& batch) override { return {{kKeypointsOutput, model_->forward(batch.at(kImage))}}; }

  void export_model(const std::string& dir) override {
    model_->eval();
    write_keypoints_export(dir, *model_, pose_stats(), input_meta());
  }

 private:
  KeypointsTask(const Config& cfg, const std::string& run_dir, TaskData data, KeypointsOptions options)
      : HandTask(cfg, run_dir, data, options.coord_dims), options_(std::move(options)) {
    const std::string& tv = options_.torchvision_weights;
    cfg.require(tv.empty() || o_.init_checkpoint.empty(), "init.torchvision_weights",
                "and init.checkpoint exclude each other");
    torch::manual_seed(seed_);  // parameter init
    KeypointRegressorOptions model_options;
    model_options.backbone = options_.backbone;
    model_options.coord_dims = options_.coord_dims;
    model_ = KeypointRegressor(model_options);
    load_initial_checkpoint(cfg);
    if (!tv.empty() && !run_has_checkpoint(run_dir_)) {
      cfg.require(std::filesystem::is_regular_file(tv), "init.torchvision_weights", describe_named_file(tv));
      load_torchvision_resnet(tv, *model_->backbone);
      std::cout << name() << ": backbone initialised from " << tv << "\n";
    }
  }

  KeypointsOptions options_;
  KeypointRegressor model_{nullptr};
};

}  // namespace

std::unique_ptr<Task> make_keypoints_task(const Config& cfg, const std::string& run_dir, TaskData data) {
  return std::make_unique<KeypointsTask>(cfg, run_dir, data);
}

TaskEntry keypoints_task_entry() {
  return {"keypoints", "hand keypoints: ResNet regressor, RGB image -> 21 joints in 3D (synthetic or real hands)",
          keypoints_task_defaults, keypoints_option_docs, [](const Config& cfg, const std::string& run_dir, TaskData data) {
            return make_keypoints_task(cfg, run_dir, data);
          }};
}

}  // namespace zoo
