#pragma once
// The generic training loop: sum losses -> finite check -> backward -> (accumulate) -> clip ->
// step -> schedule, with evaluation, best-model tracking, early stopping, atomic checkpoints,
// bitwise-exact resume, metrics.jsonl, a progress line and PNG curves.
#include <torch/torch.h>

#include <memory>
#include <string>

#include "train/config.h"
#include "train/distributed.h"
#include "train/metrics_log.h"
#include "train/optim.h"
#include "train/train_options.h"
#include "train/task.h"

namespace zoo {

struct TrainResult {
  int64_t steps = 0;
  bool early_stopped = false;
  int stop_signal = 0;    // SIGINT/SIGTERM that stopped the run after `steps` (last.pt written)
  Metrics final_metrics;  // last evaluation on "val"
};

// With a process group the trainer is one rank of a data-parallel job, as DDP: rank 0's initial
// parameters are broadcast; rank r of W reads micro-batches i * W + r (so the W ranks together
// read exactly the batches of one process with a W times larger batch); after the last
// micro-batch the loss-weighted gradients are summed in buckets across ranks and divided by the
// total weight (no reduce on the other micro-batches), then clipped; BatchNorm buffers follow
// rank 0. Every rank evaluates the full held-out set with identical weights, so the metrics and
// early stopping are those of one process; only rank 0 logs and writes files.
class Trainer {
 public:
  Trainer(Task& task, TrainOptions train, OptimOptions optim, ScheduleOptions schedule,
          std::string run_dir, torch::Device device = torch::kCPU, ProcessGroup* group = nullptr);

  // Trains to train.max_steps, resuming from run_dir/checkpoints/last.pt when `resume`.
  // `stop_after` >= 0 stops after that step as if killed right after its checkpoint (tests).
  TrainResult fit(bool resume, int64_t stop_after = -1);
  Metrics evaluate(const std::string& split);
  int64_t step() const { return step_; }

 private:
  // One optimizer step; returns false (after printing why) when the step was skipped.
  bool train_step(std::map<std::string, double>& loss_sums);
  void save_checkpoint(const std::string& path) const;
  void load_checkpoint(const std::string& path);
  bool is_main() const { return group_ == nullptr || group_->rank() == 0; }
  int world_size() const { return group_ == nullptr ? 1 : group_->world_size(); }

  Task& task_;
  TrainOptions opt_;
  OptimOptions optim_opt_;
  ScheduleOptions schedule_;
  std::string run_dir_;
  torch::Device device_;
  ProcessGroup* group_;
  bool bf16_;  // the training forward under bf16 autocast (train.precision)
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  int64_t step_ = 0;
  double best_metric_ = 0.0;
  bool has_best_ = false;
  int64_t evals_since_best_ = 0;
  int64_t skipped_steps_ = 0;
  double last_grad_norm_ = 0.0;
  bool ranks_stop_ = false;  // data-parallel: some rank got a stop signal (agreed in the reduction)
};

// Evaluates the task's model on a held-out split (eval mode, no gradients), restoring train mode.
Metrics evaluate_task(Task& task, const std::string& split, const torch::Device& device);

// Saves/loads a model's parameters and buffers (best.pt and last.pt both hold them).
void load_model_weights(torch::nn::Module& model, const std::string& path);

// Whether DIR has trained weights of its own (checkpoints/last.pt or best.pt): then resume, eval,
// export and predict load those, and a task skips its initial weights (init.*).
bool run_has_checkpoint(const std::string& run_dir);

}  // namespace zoo
