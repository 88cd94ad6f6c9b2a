#pragma once
// A test-only task: noisy linear regression with dropout, small enough to run the whole trainer
// in milliseconds. Sample i is a pure function of i, like every real task's data.
#include <torch/torch.h>

#include "train/task.h"

namespace zoo::testing {

class ToyModelImpl : public torch::nn::Module {
 public:
  ToyModelImpl() {
    hidden = register_module("hidden", torch::nn::Linear(4, 16));
    out = register_module("out", torch::nn::Linear(16, 1));
    dropout = register_module("dropout", torch::nn::Dropout(0.2));
  }
  torch::Tensor forward(const torch::Tensor& x) { return out(dropout(torch::tanh(hidden(x)))).squeeze(1); }
  torch::nn::Linear hidden{nullptr}, out{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(ToyModel);

class ToyEvaluator : public Evaluator {
 public:
  void reset() override { sum_ = 0, n_ = 0; }
  void process(const Batch& b, const Batch& out) override {
    sum_ += (out.at("y") - b.at("y")).pow(2).sum().item<double>();
    n_ += b.at("y").numel();
  }
  Metrics summarize() override { return {{"mse", sum_ / n_}}; }

 private:
  double sum_ = 0;
  int64_t n_ = 0;
};

class ToyTask : public Task {
 public:
  explicit ToyTask(int64_t batch_size, int64_t nan_at_step = -1, uint64_t init_seed = 0)
      : batch_size_(batch_size), nan_at_index_(nan_at_step) {
    torch::manual_seed(init_seed);
    model_ = ToyModel();
  }
  std::string name() const override { return "toy"; }
  torch::nn::Module& model() override { return *model_; }
  static Batch samples(int64_t first, int64_t count) {
    const auto idx = torch::arange(first, first + count, torch::kFloat64);
    const auto x = torch::stack({torch::sin(idx), torch::cos(idx * 0.7), torch::sin(idx * 1.3),
                                 torch::cos(idx * 0.1)}, 1).to(torch::kFloat32);
    const auto y = x.matmul(torch::tensor({1.0f, -2.0f, 0.5f, 3.0f})) + 0.1f * torch::sin(idx * 17).to(torch::kFloat32);
    return {{"x", x}, {"y", y}};
  }
  Batch train_batch(int64_t index) override {
    ++batches_served;
    return samples(index * batch_size_, batch_size_);
  }
  std::vector<Batch> eval_batches(const std::string&) override { return {samples(100000, 64)}; }
  StepLosses training_step(const Batch& b) override {
    torch::Tensor loss = (model_->forward(b.at("x")) - b.at("y")).pow(2).mean();
    if (batches_served - 1 == nan_at_index_) loss = loss * std::nan("");
    return {{{"mse", loss}}, static_cast<double>(b.at("y").numel())};
  }
  Batch predict(const Batch& b) override { return {{"y", model_->forward(b.at("x"))}}; }
  std::unique_ptr<Evaluator> make_evaluator(const std::string&) override { return std::make_unique<ToyEvaluator>(); }
  PrimaryMetric primary_metric() const override { return {"mse", false}; }
  void export_model(const std::string&) override {}

  ToyModel model_{nullptr};
  int64_t batches_served = 0;

 private:
  int64_t batch_size_;
  int64_t nan_at_index_;
};

}  // namespace zoo::testing
