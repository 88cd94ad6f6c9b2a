#include "train/tasks/shapes/task.h"

#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <random>

#include "data/hand_batch.h"  // image_to_tensor
#include "data/sampling.h"
#include "io/export_format.h"
#include "io/formats/torchscript.h"
#include "io/weight_files.h"
#include "train/trainer.h"

namespace zoo {

namespace {

const char* const kImage = "image";  // [B, 3, S, S] normalised as data/hand_batch.h's "image"
const char* const kLabel = "label";  // [B] int64: 0 circle, 1 square, 2 triangle
const char* const kLogits = "logits";
constexpr int64_t kClasses = 3;

// Picture i of a generated set: a pure function of (seed, i), so any batch can be made again.
std::pair<cv::Mat, int64_t> shape_picture(uint64_t seed, int64_t i, int size) {
  std::mt19937_64 rng(mix_seed(seed, static_cast<uint64_t>(i)));
  const auto pick = [&](int n) { return static_cast<int>(uniform_index(rng, n)); };
  const cv::Scalar background(pick(128), pick(128), pick(128)), ink(128 + pick(128), 128 + pick(128), 128 + pick(128));
  cv::Mat image(size, size, CV_8UC3, background);
  const int64_t label = pick(kClasses);
  const int r = size / 8 + pick(size / 8);  // half the shape's extent
  const cv::Point c(r + pick(size - 2 * r), r + pick(size - 2 * r));
  if (label == 0) cv::circle(image, c, r, ink, cv::FILLED, cv::LINE_AA);
  if (label == 1) cv::rectangle(image, c - cv::Point(r, r), c + cv::Point(r, r), ink, cv::FILLED);
  if (label == 2) {
    const std::vector<cv::Point> corners = {{c.x, c.y - r}, {c.x - r, c.y + r}, {c.x + r, c.y + r}};
    cv::fillConvexPoly(image, corners, ink, cv::LINE_AA);
  }
  return {image, label};
}

class AccuracyEvaluator : public Evaluator {
 public:
  void reset() override { correct_ = total_ = 0; }
  void process(const Batch& batch, const Batch& out) override {
    correct_ += (out.at(kLogits).argmax(1) == batch.at(kLabel)).sum().item<int64_t>();
    total_ += batch.at(kLabel).numel();
  }
  Metrics summarize() override {
    return {{"accuracy", static_cast<double>(correct_) / std::max<int64_t>(1, total_)},
            {"images", static_cast<double>(total_)}};
  }

 private:
  int64_t correct_ = 0, total_ = 0;
};

class ShapesTask : public Task {
 public:
  ShapesTask(const Config& cfg, const std::string& /*run_dir*/, TaskData /*data*/)
      : o_(ShapesOptions::table().read(cfg)), train_(train_options(cfg)), sampler_(o_.train_size, train_.seed) {
    torch::manual_seed(static_cast<uint64_t>(train_.seed));  // parameter init
    const int64_t w = o_.width, cells = (o_.image_size / 4) * (o_.image_size / 4);
    // A real task's module belongs in models/ (tensors in, tensors out); the example keeps its
    // four layers here so that it lives in one folder.
    model_ = torch::nn::Sequential(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(3, w, 3).padding(1)), torch::nn::ReLU(),
        torch::nn::MaxPool2d(2), torch::nn::Conv2d(torch::nn::Conv2dOptions(w, 2 * w, 3).padding(1)),
        torch::nn::ReLU(), torch::nn::MaxPool2d(2), torch::nn::Flatten(), torch::nn::Linear(2 * w * cells, kClasses));
  }

  std::string name() const override { return "shapes"; }
  torch::nn::Module& model() override { return *model_; }
  PrimaryMetric primary_metric() const override { return {"accuracy", true}; }
  std::unique_ptr<Evaluator> make_evaluator(const std::string&) override {
    return std::make_unique<AccuracyEvaluator>();
  }

  Batch train_batch(int64_t index) override {
    std::vector<int64_t> picked;
    for (int64_t k = 0; k < train_.batch_size; ++k) picked.push_back(sampler_(index * train_.batch_size + k));
    return make_batch(picked, kTrainStream);
  }

  std::vector<Batch> eval_batches(const std::string& split) override {
    if (split != "val") throw UserError("shapes: split '" + split + "' does not exist (use val)");
    std::vector<Batch> batches;
    for (int64_t start = 0; start < o_.val_size; start += o_.eval_batch_size) {
      std::vector<int64_t> picked;
      for (int64_t i = start; i < std::min(o_.val_size, start + o_.eval_batch_size); ++i) picked.push_back(i);
      batches.push_back(make_batch(picked, kValStream));
    }
    return batches;
  }

  StepLosses training_step(const Batch& batch) override {
    const torch::Tensor logits = model_->forward(batch.at(kImage));
    // The loss is a mean over the batch's images: that is the unit count.
    return {{{"cross_entropy", torch::nn::functional::cross_entropy(logits, batch.at(kLabel))}},
            static_cast<double>(logits.size(0))};
  }

  Batch predict(const Batch& batch) override { return {{kLogits, model_->forward(batch.at(kImage))}}; }

  void export_model(const std::string& dir) override {
    std::filesystem::create_directories(dir);
    model_->eval();
    const NamedTensors weights = module_tensors(*model_, /*with_buffers=*/false);
    write_weight_files(dir, weights);
    // TorchScript written as source with ATen ops (no Python needed); parameters "0.weight" etc.
    torch::jit::Module module("__torch__.ZooShapes");
    for (const auto& [key, tensor] : weights) module.register_parameter("p" + key.substr(0, key.find('.')) + "_" +
                                                                            key.substr(key.find('.') + 1),
                                                                        tensor.clone(), false);
    module.define(R"(
def forward(self, x: Tensor) -> Tensor:
    x = torch.max_pool2d(torch.relu(torch.conv2d(x, self.p0_weight, self.p0_bias, [1, 1], [1, 1])), [2, 2])
    x = torch.max_pool2d(torch.relu(torch.conv2d(x, self.p3_weight, self.p3_bias, [1, 1], [1, 1])), [2, 2])
    return torch.linear(x.flatten(1), self.p7_weight, self.p7_bias)
)");
    save_script_module(module, dir + "/model.pt");
    write_json_file(dir + "/meta.json", {{"task", "shapes"},
                                         {"format_version", kExportFormatVersion},
                                         {"input", {{"shape", {-1, 3, o_.image_size, o_.image_size}},
                                                    {"normalisation", "as data/hand_batch.h image_to_tensor"}}},
                                         {"output", "logits [B, 3]: circle, square, triangle"}});
  }

 private:
  static constexpr uint64_t kTrainStream = 1, kValStream = 2;  // the two sets never share a picture

  Batch make_batch(const std::vector<int64_t>& indices, uint64_t stream) const {
    std::vector<torch::Tensor> images;
    std::vector<int64_t> labels;
    for (const int64_t i : indices) {
      // The sets are fixed (train.seed only shuffles the training set).
      auto [image, label] = shape_picture(stream, i, static_cast<int>(o_.image_size));
      images.push_back(image_to_tensor(image));
      labels.push_back(label);
    }
    return {{kImage, torch::stack(images)}, {kLabel, torch::tensor(labels, torch::kInt64)}};
  }

  ShapesOptions o_;
  TrainOptions train_;
  EpochSampler sampler_;
  torch::nn::Sequential model_{nullptr};
};

}  // namespace

std::unique_ptr<Task> make_shapes_task(const Config& cfg, const std::string& run_dir, TaskData data) {
  return std::make_unique<ShapesTask>(cfg, run_dir, data);
}

TaskEntry shapes_task_entry() {
  return {"shapes", "worked example (docs/adding_a_task.md): a small CNN tells circles, squares and triangles apart",
          shapes_task_defaults, shapes_option_docs, [](const Config& cfg, const std::string& run_dir, TaskData data) {
            return make_shapes_task(cfg, run_dir, data);
          }};
}

}  // namespace zoo
