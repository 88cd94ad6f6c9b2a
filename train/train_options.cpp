#include "train/train_options.h"

#include <malloc.h>

#include <cstdlib>
#include <limits>
#include <optional>
#include <thread>

namespace zoo {

const OptionTable<TrainOptions>& TrainOptions::table() {
  using T = TrainOptions;
  static const auto t =
      OptionTable<T>()
          // 0 evaluates (and exports) the initial model: a published checkpoint's zero-shot figures.
          .add("train.max_steps", &T::max_steps, "optimizer steps", at_least<int64_t>(0))
          .add("train.batch_size", &T::batch_size, "samples per micro-batch", greater_than<int64_t>(0))
          .add("train.accum_steps", &T::accum_steps,
               "micro-batches per optimizer step (gradient accumulation, exact)", greater_than<int64_t>(0))
          .add("train.grad_clip_norm", &T::grad_clip_norm, "clip the global gradient norm; 0 = off", at_least(0.0))
          .add("train.log_every_steps", &T::log_every_steps, "steps between training log lines",
               greater_than<int64_t>(0))
          .add("train.eval_every_steps", &T::eval_every_steps, "steps between evaluations; 0 = only at the end",
               at_least<int64_t>(0))
          .add("train.ckpt_every_steps", &T::ckpt_every_steps, "steps between checkpoints; 0 = only at the end",
               at_least<int64_t>(0))
          .add("train.early_stop_patience", &T::early_stop_patience,
               "evaluations without improvement before stopping; 0 = off", at_least<int64_t>(0))
          .add("train.on_nonfinite", &T::on_nonfinite, "a NaN/inf loss or gradient: stop, or skip the step",
               one_of({"stop", "skip"}))
          .add("train.seed", &T::seed, "seed of initialisation, batches and dropout", at_least<int64_t>(0))
          .add("train.threads", &T::threads,
               "LibTorch threads; 0 = the machine's cores shared among the local ranks, fewer while other "
               "processes use cores (checked every second)",
               in_range<int64_t>(0, 1024, true))
          .add("train.device", &T::device, "cpu, cuda or cuda:N")
          .add("train.plots", &T::plots, "DIR/plots/summary.png at the end of the run: loss, primary metric with its baseline, learning rate")
          .add("train.tensorboard", &T::tensorboard,
               "TensorBoard events in DIR: training and validation scalars, pictures, config, hparams")
          .add("train.memory_check", &T::memory_check,
               "refuse a batch size whose step cannot fit in memory (train/memory_check.h)")
          // Saturated attention softmaxes produce denormals, and x86 arithmetic on them is many
          // times slower.
          .add("train.flush_denormal", &T::flush_denormal,
               "treat denormal floats as 0 on the CPU, as torch.set_flush_denormal(True)")
          // Matrix products in bf16 are ~4x faster than fp32 ones on a CPU with AVX512-BF16
          // (oneDNN; docs/tasks/mlm.md), and the model keeps learning at the same rate per step.
          .add("train.precision", &T::precision,
               "fp32; bf16: the training forward under autocast (matrix products in bfloat16; weights, "
               "gradients, optimizer and evaluation in fp32); auto: bf16 on a CPU with native bf16",
               one_of({"fp32", "bf16", "auto"}));
  return t;
}

Json trainer_defaults() {
  Json j = OptimOptions::table().to_json();
  j.update(ScheduleOptions::table().to_json(), /*merge_objects=*/true);
  j.update(TrainOptions::table().to_json(), /*merge_objects=*/true);
  return j;
}

std::vector<OptionDoc> trainer_option_docs() {
  std::vector<OptionDoc> docs = OptimOptions::table().docs();
  for (const auto& d : ScheduleOptions::table().docs()) docs.push_back(d);
  for (const auto& d : TrainOptions::table().docs()) docs.push_back(d);
  return docs;
}

void keep_freed_memory_for_reuse() {
#ifdef __GLIBC__
  const char* keep_defaults = std::getenv("ZOO_MALLOC_DEFAULTS");
  if (keep_defaults != nullptr && std::string(keep_defaults) == "1") return;
  mallopt(M_MMAP_MAX, 0);                                     // large blocks from the heap too
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());  // and never trimmed back
#endif
}

void release_freed_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

bool cpu_has_native_bf16() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

bool uses_bf16_autocast(const TrainOptions& o, const torch::Device& device) {
  if (o.precision == "bf16") return true;
  return o.precision == "auto" && device.is_cpu() && cpu_has_native_bf16();
}

torch::Device configure_runtime(const TrainOptions& o, const DistributedEnv& env) {
  keep_freed_memory_for_reuse();
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = o.threads > 0 ? static_cast<int>(o.threads) : std::max(1, cores / env.local_world_size);
  torch::set_num_threads(threads);
  // A per-thread CPU flag (MXCSR), set here for the calling thread; LibTorch's intra-op threads
  // copy it when OpenMP creates them, at the first parallel operation, which comes after this.
  // (zoo's own code is not built with OpenMP, so it cannot reach threads created earlier.)
  at::globalContext().setFlushDenormal(o.flush_denormal);
  std::optional<torch::Device> device;
  try {
    device = torch::Device(o.device);
  } catch (const c10::Error&) {
    throw UserError("train.device: unknown device '" + o.device + "' (use cpu, cuda or cuda:N)");
  }
  // One GPU per local rank, as torchrun jobs use them: "cuda" means cuda:LOCAL_RANK.
  if (device->is_cuda() && !device->has_index() && env.enabled()) device = torch::Device(torch::kCUDA, env.local_rank);
  if (device->is_cuda() && !torch::cuda::is_available())
    throw UserError("train.device: '" + o.device +
                    "' requested but this LibTorch build has no usable CUDA device");
  if (!device->is_cpu() && !device->is_cuda())
    throw UserError("train.device: '" + o.device + "' is not supported (use cpu or cuda)");
  return *device;
}

}  // namespace zoo
