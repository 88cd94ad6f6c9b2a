#include "train/tasks/heatmap/task.h"

#include "losses/coord_loss.h"
#include "train/tasks/hand/evaluator.h"
#include "train/tasks/hand/task.h"
#include "train/tasks/heatmap/export.h"
#include "train/trainer.h"

namespace zoo {

namespace {

using namespace hand_key;

class HeatmapTask : public HandTask {
 public:
  HeatmapTask(const Config& cfg, const std::string& run_dir, TaskData data)
      : HandTask(cfg, run_dir, data, /*coord_dims=*/2), options_(HeatmapOptions::table().read(cfg)) {
    torch::manual_seed(seed_);  // parameter init
    model_ = HeatmapKeypointModel(options_.model);
    load_initial_checkpoint(cfg);
  }

  std::string name() const override { return "heatmap"; }
  torch::nn::Module& model() override { return *model_; }

  StepLosses training_step(const Batch& batch) override {
    const torch::Tensor& visible = batch.at(kVisible);
    const torch::Tensor loss = heatmap_loss(batch.at(kImage), batch.at(kUv), visible);
    return {{{options_.model.head == "per_axis" ? "cross_entropy" : "coords", loss}}, visible.sum().item<double>()};
  }

  Batch predict(const Batch& batch) override {
    const auto out = model_->forward(batch.at(kImage));
    return {{kKeypointsOutput, out.coords}, {kHeatmapsOutput, out.heatmaps}};
  }

  void export_model(const std::string& dir) override {
    model_->eval();
    write_heatmap_export(dir, *model_, input_meta(), o_.image_size);
  }

 private:
  // Mean training loss of a batch: uv [B, K, 2] normalised targets, visible [B, K].
  torch::Tensor heatmap_loss(const torch::Tensor& images, const torch::Tensor& uv, const torch::Tensor& visible) {
    const torch::Tensor logits = model_->net->forward(images);
    if (options_.model.head == "per_axis") {
      const auto [lx, ly] = axis_logits(logits);
      // The bin of each coordinate: cell j spans [2j/n - 1, 2(j+1)/n - 1) in this convention. The
      // clamp only catches a visible keypoint exactly on the far edge; invisible ones (off the
      // image) are ignored by the loss whatever their bin.
      const auto bin = [&](const torch::Tensor& c, int64_t n) {
        return ((c + 1) * (0.5 * static_cast<double>(n))).floor().clamp(0, n - 1).to(torch::kInt64);
      };
      const auto labels = torch::stack({bin(uv.select(-1, 0), lx.size(-1)), bin(uv.select(-1, 1), ly.size(-1))}, -1);
      return per_axis_ce_loss(lx, ly, labels, visible);
    }
    const SoftArgmaxOutput out = model_->soft_argmax->forward_with_heatmaps(logits);
    torch::Tensor loss = keypoint_loss(out.coords, uv, visible, options_.coord_loss);
    if (options_.js_weight > 0) {
      const auto target_cells = convert_coords(uv, {logits.size(3), logits.size(2)}, CoordConvention::kPixelCentre,
                                               CoordConvention::kPixel);
      loss = loss + options_.js_weight * heatmap_js_regulariser(out.heatmaps, target_cells, visible, options_.js_sigma);
    }
    return loss;
  }

  HeatmapOptions options_;
  HeatmapKeypointModel model_{nullptr};
};

}  // namespace

std::unique_ptr<Task> make_heatmap_task(const Config& cfg, const std::string& run_dir, TaskData data) {
  return std::make_unique<HeatmapTask>(cfg, run_dir, data);
}

TaskEntry heatmap_task_entry() {
  return {"heatmap", "hand keypoints in 2D: conv encoder + transposed-conv decoder -> heatmaps -> soft-argmax",
          heatmap_task_defaults, heatmap_option_docs, [](const Config& cfg, const std::string& run_dir, TaskData data) {
            return make_heatmap_task(cfg, run_dir, data);
          }};
}

}  // namespace zoo
