#pragma once
// Optimizers and learning-rate schedules, configured from the "optim" and "schedule" sections.
#include <torch/torch.h>

#include <memory>
#include <string>

#include "train/options.h"

namespace zoo {

// The "optim" section; OptimOptions::table() documents each option.
struct OptimOptions {
  std::string name = "adamw";
  double lr = 1e-3;
  double weight_decay = 0.0;
  double momentum = 0.9;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  static const OptionTable<OptimOptions>& table();
};

// The "schedule" section; ScheduleOptions::table() documents each option.
struct ScheduleOptions {
  std::string name = "constant";
  int64_t warmup_steps = 0;
  double warmup_ratio = 0.0;
  int64_t total_steps = 0;
  double min_lr_ratio = 0.0;
  int64_t step_size = 1000;
  double gamma = 0.1;
  static const OptionTable<ScheduleOptions>& table();
};

inline OptimOptions optim_options(const Config& cfg) { return OptimOptions::table().read(cfg); }
inline ScheduleOptions schedule_options(const Config& cfg) { return ScheduleOptions::table().read(cfg); }

// Parameters with one dimension (biases, LayerNorm/BatchNorm weights) get no weight decay.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimOptions& o,
                                                         torch::nn::Module& model);

// Learning rate for 0-based optimizer step `step`.
double learning_rate(const ScheduleOptions& s, double base_lr, int64_t step, int64_t total_steps);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace zoo
