#pragma once
// The Task interface: the only glue between data, model, loss and metrics. The trainer knows
// nothing about a task beyond this.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "data/batch.h"
#include "train/config.h"

namespace zoo {

using Metrics = std::map<std::string, double>;

struct StepLosses {
  std::map<std::string, torch::Tensor> terms;  // summed into the training loss
  // How many units the terms average over (masked tokens, samples, sampled anchors). With
  // gradient accumulation each micro-batch's gradient is weighted by it, so that the result
  // equals the gradient of the large batch.
  double weight = 1.0;
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  virtual void reset() = 0;
  // `outputs` is what Task::predict returned for `batch`.
  virtual void process(const Batch& batch, const Batch& outputs) = 0;
  virtual Metrics summarize() = 0;
};

struct PrimaryMetric {
  std::string name;
  bool higher_is_better = true;
  bool better(double candidate, double best) const {
    return higher_is_better ? candidate > best : candidate < best;
  }
};

// What a task is built for. kNone (export, predict) reads no data: whatever the task took from
// its data or its initial checkpoint when the run was trained (vocabulary, pose statistics, IDF
// classes, a published checkpoint's settings) comes from the run directory, so a run keeps
// working after its data moved. kLoad (train, resume, eval) checks and reads the data.
enum class TaskData { kLoad, kNone };

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual torch::nn::Module& model() = 0;

  // The index-th training micro-batch of the run: a pure function of (seed, index), so that a
  // resumed run sees exactly the batches the uninterrupted run would have seen.
  virtual Batch train_batch(int64_t index) = 0;
  // In data-parallel training each rank asks for every stride-th batch (rank, rank + stride, ...).
  // A task whose loader prefetches in index order is told so once, before the first train_batch.
  virtual void set_train_batch_stride(int64_t /*stride*/) {}
  // Held-out batches of a split ("val", or "test" where the data has one); fixed by seed.
  virtual std::vector<Batch> eval_batches(const std::string& split) = 0;

  virtual StepLosses training_step(const Batch& batch) = 0;
  virtual Batch predict(const Batch& batch) = 0;
  // An evaluator for one split (whose name it may use, e.g. for pictures).
  virtual std::unique_ptr<Evaluator> make_evaluator(const std::string& split) = 0;
  virtual PrimaryMetric primary_metric() const = 0;

  // Settings the task took from somewhere other than its config (a published checkpoint's
  // tokenizer, pooling, sequence length), as an object of config keys. The CLI merges them into
  // the run's saved config.json, so that eval, export and predict rebuild the same task.
  virtual Json resolved_settings() const { return Json::object(); }

  // Samples the task could not read and skipped (training: replaced by the next one; evaluation:
  // left out), by split: {"val": {"samples": N, "skipped": ["why, naming the file", ...]}, ...}.
  // The CLI writes it to DIR/data_report.json and prints the count. Empty: nothing skipped.
  virtual Json data_report() const { return Json::object(); }

  // Writes model.pt (TorchScript), weights.pt and weights.safetensors (Python-loadable state
  // dicts) and meta.json.
  virtual void export_model(const std::string& dir) = 0;
};

// Moves every tensor of a batch to a device.
inline Batch to_device(const Batch& batch, const torch::Device& device) {
  Batch moved;
  for (const auto& [key, tensor] : batch) moved[key] = tensor.to(device);
  return moved;
}

}  // namespace zoo
