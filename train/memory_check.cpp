#include "train/memory_check.h"

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "io/error.h"

namespace zoo {

namespace {

double heap_in_use() {
  const struct mallinfo2 m = ::mallinfo2();  // all arenas, plus blocks served by mmap
  return static_cast<double>(m.uordblks + m.hblkhd);
}

// A value of /proc/meminfo in bytes ("MemAvailable:  123456 kB"), or -1.
double meminfo_bytes(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string name, unit;
  double value = 0;
  while (in >> name >> value) {
    std::getline(in, unit);
    if (name == key + ":") return value * 1024;
  }
  return -1;
}

// A cgroup v2 file holding one number (or "max"), or -1.
double cgroup_number(const std::string& file) {
  std::ifstream in("/sys/fs/cgroup/" + file);
  std::string s;
  if (!(in >> s) || s == "max") return -1;
  try {
    return std::stod(s);
  } catch (const std::exception&) {
    return -1;
  }
}

std::string gigabytes(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, bytes < 1e9 ? "%.2f" : "%.1f", bytes / 1e9);
  return buf;
}

}  // namespace

double MemoryEstimate::step_bytes(int64_t batch_size) const {
  // Backward holds the activations' gradients next to the activations: about twice as much.
  return parameter_bytes + 2.0 * bytes_per_sample * static_cast<double>(batch_size);
}

double MemoryEstimate::eval_bytes(bool training) const {
  // Without autograd a forward frees each activation when the next layer has used it, so the
  // graph's per-sample figure is an upper bound; the weights alone are a quarter of parameter_bytes.
  return (training ? parameter_bytes : parameter_bytes / 4) + bytes_per_sample * static_cast<double>(eval_batch_samples);
}

MemoryEstimate estimate_step_memory(Task& task) {
  torch::nn::Module& model = task.model();
  MemoryEstimate e;
  for (const auto& p : model.parameters()) e.parameter_bytes += 4.0 * static_cast<double>(p.nbytes());

  const std::vector<Batch> batches = task.eval_batches("val");
  if (batches.empty()) return e;
  Batch batch = batches.front();
  int64_t samples = 1;
  size_t largest = 0;
  for (const auto& [key, tensor] : batch)
    if (tensor.defined() && tensor.dim() > 0 && tensor.nbytes() > largest) largest = tensor.nbytes(), samples = tensor.size(0);
  e.eval_batch_samples = samples;
  // The probe holds a training step's graph: on a whole held-out batch of eval.batch_size=1000000
  // it would itself exhaust the memory it is meant to protect. A few samples measure the same.
  constexpr int64_t kMaxProbeSamples = 64;
  if (samples > kMaxProbeSamples) {
    for (auto& [key, tensor] : batch)
      if (tensor.defined() && tensor.dim() > 0 && tensor.size(0) == samples) tensor = tensor.narrow(0, 0, kMaxProbeSamples);
    samples = kMaxProbeSamples;
  }

  std::vector<torch::Tensor> buffers;
  for (const auto& b : model.buffers()) buffers.push_back(b.clone());
  auto generator = at::detail::getDefaultCPUGenerator();
  const at::Tensor rng_state = generator.get_state();
  const bool was_training = model.is_training();
  model.train();
  const double start = heap_in_use();
  double graph = 0;
  {
    const StepLosses losses = task.training_step(batch);  // keeps the autograd graph alive
    graph = heap_in_use() - start;
  }
  model.train(was_training);
  generator.set_state(rng_state);
  {
    torch::NoGradGuard no_grad;
    const auto now = model.buffers();
    for (size_t i = 0; i < buffers.size(); ++i) now[i].copy_(buffers[i]);
  }
  double batch_bytes = 0;
  for (const auto& [key, tensor] : batch)
    if (tensor.defined()) batch_bytes += static_cast<double>(tensor.nbytes());
  e.probe_samples = std::max<int64_t>(1, samples);
  e.bytes_per_sample = (std::max(0.0, graph) + batch_bytes) / static_cast<double>(e.probe_samples);
  return e;
}

double available_memory_bytes() {
  double available = meminfo_bytes("MemAvailable");
  const double limit = cgroup_number("memory.max"), used = cgroup_number("memory.current");
  if (limit > 0 && used >= 0) available = available < 0 ? limit - used : std::min(available, limit - used);
  return available;
}

void check_memory(Task& task, int64_t train_batch_size, int64_t eval_batch_size, int64_t ranks, bool training,
                  double available) {
  if (available <= 0) return;  // not Linux, or no /proc: nothing to compare with
  if (train_batch_size <= 0 && eval_batch_size <= 0) return;
  const MemoryEstimate e = estimate_step_memory(task);
  const auto refuse = [&](const std::string& key, int64_t size, double needed, const std::string& what,
                          const std::string& advice) {
    std::ostringstream msg;
    msg << key << " " << size << " needs ~" << gigabytes(needed) << " GB for " << what;
    if (ranks > 1) msg << " on " << ranks << " ranks";
    msg << " (about " << gigabytes(e.bytes_per_sample) << " GB per sample, measured on " << e.probe_samples
        << " held-out samples); this machine has " << gigabytes(available) << " GB available (" << advice
        << "; train.memory_check=false skips this check)";
    throw UserError(msg.str());
  };
  const double r = static_cast<double>(ranks);
  if (train_batch_size > 0 && e.step_bytes(train_batch_size) * r > available)
    refuse("train.batch_size", train_batch_size, e.step_bytes(train_batch_size) * r, "one training step",
           "a smaller train.batch_size with train.accum_steps keeps the effective batch");
  // eval.batch_size is what the user set; a batch holds at most the split (eval_batch_samples).
  if (eval_batch_size > 0 && e.eval_bytes(training) * r > available)
    refuse("eval.batch_size", eval_batch_size, e.eval_bytes(training) * r,
           "one evaluation batch of " + std::to_string(e.eval_batch_samples) + " samples",
           "a smaller eval.batch_size gives the same metrics");
}

int64_t eval_batch_size(const Json& config) {
  const Json::json_pointer key("/eval/batch_size");
  return config.contains(key) && config.at(key).is_number_integer() ? config.at(key).get<int64_t>() : 0;
}

}  // namespace zoo
