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
  bool tensorboard = true;
  bool memory_check = true;
  bool flush_denormal = true;
  std::string precision = "fp32";
  static const OptionTable<TrainOptions>& table();
};

inline TrainOptions train_options(const Config& cfg) { return TrainOptions::table().read(cfg); }
// The optim/schedule/train sections with their code defaults; tasks add their own sections.
Json trainer_defaults();
// Their documentation, for `zoo tasks NAME`.
std::vector<OptionDoc> trainer_option_docs();

// A task's defaults: the trainer's sections, each table's over them, and "task": name.
template <class... Tables>
Json task_defaults(const std::string& name) {
  Json j = trainer_defaults();
  (j.update(Tables::table().to_json(), /*merge_objects=*/true), ...);
  j["task"] = name;
  return j;
}
// Its documentation: each table's, then the trainer's.
template <class... Tables>
std::vector<OptionDoc> task_option_docs() {
  std::vector<OptionDoc> docs;
  const auto append = [&docs](const std::vector<OptionDoc>& more) { docs.insert(docs.end(), more.begin(), more.end()); };
  (append(Tables::table().docs()), ...);
  append(trainer_option_docs());
  return docs;
}

// glibc hands every freed block above its mmap threshold (any tensor of a few MB) back to the
// kernel and page-faults fresh zeroed pages in on the next step: 10-25 % of a CNN training step
// here. This keeps freed memory in the process for reuse instead (what a jemalloc/tcmalloc setup
// does for PyTorch). ZOO_MALLOC_DEFAULTS=1 keeps glibc's defaults.
void keep_freed_memory_for_reuse();
// Kept memory is reused well only by blocks of the sizes that were freed: where tensor sizes vary
// from step to step (the MLM head's masked-position count), the kept blocks pile up and RSS grew
// to 4 GB in 30 minutes around 0.6 GB of live heap. The trainer hands the free pages back
// (malloc_trim) every kReleaseMemoryEverySteps steps and after each evaluation: the 30-minute MLM
// run then peaks at 1.7 GB, with no measurable slowdown (docs/tasks/mlm.md, "Memory").
constexpr int64_t kReleaseMemoryEverySteps = 50;
void release_freed_memory();

// Whether the CPU multiplies bfloat16 natively (AVX512-BF16; AMX CPUs have it too). Elsewhere
// oneDNN emulates bf16 products, slower than fp32 ones.
bool cpu_has_native_bf16();
// Whether the training forward runs under bf16 autocast: train.precision "bf16", or "auto" on the
// CPU when it has native bf16 (on CUDA "auto" stays fp32).
bool uses_bf16_autocast(const TrainOptions& o, const torch::Device& device);

// Sets the LibTorch thread count (0 = the machine's cores shared among the local ranks) and
// checks that the device exists (CUDA: cuda:LOCAL_RANK unless an index is given).
torch::Device configure_runtime(const TrainOptions& o, const DistributedEnv& env = {});

}  // namespace zoo
