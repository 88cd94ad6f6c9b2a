#pragma once
// The trainer's "train" section, the trainer's sections' defaults and documentation, and the
// process settings a run starts with (threads, device, denormals, the allocator).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "train/config.h"
#include "train/distributed.h"
#include "train/optim.h"
#include "train/options.h"

namespace zoo {

// The "train" section; TrainOptions::table() documents each option.
struct TrainOptions {
  int64_t max_steps = 1000;
  int64_t batch_size = 32;
  int64_t accum_steps = 1;
  double grad_clip_norm = 0.0;
  int64_t log_every_steps = 10;
  int64_t eval_every_steps = 200;
  int64_t ckpt_every_steps = 200;
  int64_t early_stop_patience = 0;
  std::string on_nonfinite = "stop";
  int64_t seed = 0;
  int64_t threads = 0;
  std::string device = "cpu";
  bool plots = true;
  bool memory_check = true;
  bool flush_denormal = true;
  static const OptionTable<TrainOptions>& table();
};

inline TrainOptions train_options(const Config& cfg) { return TrainOptions::table().read(cfg); }
// The optim/schedule/train sections with their code defaults; tasks add their own sections.
Json trainer_defaults();
// Their documentation, for `zoo tasks NAME`.
std::vector<OptionDoc> trainer_option_docs();

// glibc hands every freed block above its mmap threshold (any tensor of a few MB) back to the
// kernel and page-faults fresh zeroed pages in on the next step: 10-25 % of a CNN training step
// here. This keeps freed memory in the process for reuse instead (what a jemalloc/tcmalloc setup
// does for PyTorch), for a few % more peak RSS. ZOO_MALLOC_DEFAULTS=1 keeps glibc's defaults.
void keep_freed_memory_for_reuse();
void release_freed_memory();

// Sets the LibTorch thread count (0 = the machine's cores shared among the local ranks) and
// checks that the device exists (CUDA: cuda:LOCAL_RANK unless an index is given).
torch::Device configure_runtime(const TrainOptions& o, const DistributedEnv& env = {});

}  // namespace zoo
