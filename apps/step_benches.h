#pragma once
// The training steps bench_step times, each at exactly the configuration of its Python twin in
// ../shared/bench/peers/ (the twin's file is named above each in step_benches.cpp), on batches
// generated the same way. These are the twins' configurations, not the tasks' defaults.
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace zoo {

// What bench_step's main() needs of a benchmark: one training step on pre-made batch i, and what
// a step consumes (for tokens/s or images/s).
struct Bench {
  virtual ~Bench() = default;
  virtual void step(int i) = 0;
  virtual double items_per_step() const = 0;
  virtual const char* items() const = 0;  // "tokens" | "images"
  virtual torch::optim::Optimizer& optim() = 0;
  // rpn_pieces / rpn_eval_pieces: the step with a timer around each stage, (stage, ms).
  virtual std::vector<std::pair<std::string, double>> pieces() { return {}; }
  // What data-parallel training all-reduces per step: the trained parameters' float32 bytes.
  double gradient_mb() {
    int64_t n = 0;
    for (const auto& group : optim().param_groups())
      for (const auto& p : group.params()) n += p.numel();
    return static_cast<double>(n) * 4 / 1e6;
  }
};

// The names make_bench knows (matmul is bench_step's own).
constexpr char kBenchNames[] =
    "mlm, sts, keypoints, heatmap, heatmap_upsample, rpn, rpn_eval, rpn_head, rpn_head_eval, rpn_pieces, "
    "rpn_eval_pieces, matmul";

// nullptr for an unknown name.
std::unique_ptr<Bench> make_bench(const std::string& task);

double seconds_since(std::chrono::steady_clock::time_point t0);

}  // namespace zoo
