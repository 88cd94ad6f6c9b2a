#pragma once
// Does a training step at the configured batch size fit in this machine's memory? Checked before
// the first step, so that `train.batch_size=1000000000` is a one-line error naming the key instead
// of minutes of swapping, an out-of-memory kill or a bare std::bad_alloc.
#include <cstdint>
#include <string>

#include "train/task.h"

namespace zoo {

struct MemoryEstimate {
  double parameter_bytes = 0;  // weights + gradients + two optimizer moments (Adam's m and v)
  double bytes_per_sample = 0;  // the batch and the activations kept for backward, per sample
  int64_t probe_samples = 0;    // the held-out samples they were measured on
  int64_t eval_batch_samples = 0;  // samples in the first held-out batch: min(eval.batch_size, the split)
  double step_bytes(int64_t batch_size) const;
  // One evaluation batch: no gradients and no graph kept, so at most the weights (with the
  // optimizer's state while training) and the probe's activations per sample.
  double eval_bytes(bool training) const;
};

// Runs the task's training_step (no backward, no optimizer step) on at most 64 samples of its
// first held-out batch and measures the heap the batch and the autograd graph hold (glibc
// mallinfo2). Model buffers (batch norm statistics) and the CPU random generator are restored
// afterwards: training continues exactly as without the probe. The samples of a batch are the
// first dimension of its largest tensor. An estimate, meant to catch sizes that are off by orders
// of magnitude, not by 20 %.
MemoryEstimate estimate_step_memory(Task& task);

// Bytes a new allocation can get now: MemAvailable, lowered to the cgroup's limit if one is set.
double available_memory_bytes();

// Throws UserError "train.batch_size N needs ~X GB for one training step ...; this machine has Y GB
// available" (or "eval.batch_size N needs ~X GB for one evaluation batch ...") when `ranks`
// processes do not fit in `available` bytes. train_batch_size 0: no training step is taken
// (train.max_steps=0); eval_batch_size 0: not checked. `training`: the optimizer's state is held.
void check_memory(Task& task, int64_t train_batch_size, int64_t eval_batch_size, int64_t ranks, bool training,
                  double available = available_memory_bytes());

// The task's eval.batch_size in a resolved config (every task has one), or 0.
int64_t eval_batch_size(const Json& config);

}  // namespace zoo
