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
  int64_t probe_samples = 0;    // the held-out batch they were measured on
  double step_bytes(int64_t batch_size) const;
};

// Runs the task's training_step (no backward, no optimizer step) on its first held-out batch and
// measures the heap the batch and the autograd graph hold (glibc mallinfo2). Model buffers (batch
// norm statistics) and the CPU random generator are restored afterwards: training continues
// exactly as without the probe. The samples of a batch are the first dimension of its largest
// tensor. An estimate, meant to catch sizes that are off by orders of magnitude, not by 20 %.
MemoryEstimate estimate_step_memory(Task& task);

// Bytes a new allocation can get now: MemAvailable, lowered to the cgroup's limit if one is set.
double available_memory_bytes();

// Throws UserError "train.batch_size N needs ~X GB for one training step ...; this machine has Y GB
// available" when `ranks` processes of this size do not fit.
void check_step_memory(Task& task, int64_t batch_size, int64_t ranks);

}  // namespace zoo
