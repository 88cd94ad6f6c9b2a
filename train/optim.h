#pragma once
// Optimizers and learning-rate schedules, configured from the "optim" and "schedule" sections.
#include <torch/torch.h>

#include <memory>
#include <string>

#include "train/config.h"

namespace zoo {

struct OptimOptions {
  std::string name = "adamw";  // sgd | adam | adamw
  double lr = 1e-3;
  double weight_decay = 0.0;  // AdamW/Adam/SGD; never applied to biases and norm weights
  double momentum = 0.9;      // SGD
  bool nesterov = false;      // SGD
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam, AdamW
};

struct ScheduleOptions {
  std::string name = "constant";  // constant | linear | cosine | step
  int64_t warmup_steps = 0;       // lr rises linearly: lr * (s + 1) / warmup for step s < warmup
  double warmup_ratio = 0.0;      // or warmup = this share of the horizon (as HF's warmup_ratio)
  int64_t total_steps = 0;        // horizon of linear/cosine decay; 0 = train.max_steps
  double min_lr_ratio = 0.0;      // linear/cosine decay ends at lr * min_lr_ratio
  int64_t step_size = 1000;       // step: multiply by gamma every step_size steps
  double gamma = 0.1;
};

Json to_json(const OptimOptions& o);
Json to_json(const ScheduleOptions& o);
OptimOptions optim_options(const Config& cfg);        // reads and validates "optim"
ScheduleOptions schedule_options(const Config& cfg);  // reads and validates "schedule"

// Parameters with one dimension (biases, LayerNorm/BatchNorm weights) get no weight decay.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimOptions& o,
                                                         torch::nn::Module& model);

// Learning rate for 0-based optimizer step `step`.
double learning_rate(const ScheduleOptions& s, double base_lr, int64_t step, int64_t total_steps);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace zoo
