// bench_step: times our training step at exactly the configuration of a Python twin in
// ../shared/bench/peers/, on batches generated the same way (not timed), and prints one line
// "RESULT {json}" like the twins do. scripts/bench.sh runs both, alternating, and prints ratios.
//   bench_step [--task mlm] [--threads 2] [--warmup 3] [--steps 10]   (--help lists the tasks)
// Timed step = forward + loss + backward + optimizer step + zero_grad, as in the twins. FLOP
// counts are not repeated here: bench.sh takes the twin's gflop_per_step (same model, same
// shapes) and divides it by our step time.
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "apps/command_options.h"
#include "apps/step_benches.h"
#include "train/train_options.h"
#include "train/cpu_kernels.h"
#include "train/free_cores.h"

namespace {

using zoo::seconds_since;

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Median as Python's statistics.median takes it (mean of the middle two for an even count).
double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The machine's limit: float32 1024^3 torch::mm into a preallocated output, as bench_sgemm.py
// times it (enough calls per repeat to last >= 0.15 s, median over `repeats`).
void run_matmul(int threads, int repeats) {
  constexpr int64_t n = 1024;
  const auto a = torch::randn({n, n}), b = torch::randn({n, n});
  auto c = torch::empty({n, n});
  const auto call = [&] { torch::mm_out(c, a, b); };
  call();
  call();
  int64_t calls = 1;
  for (;; calls *= 2) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t k = 0; k < calls; ++k) call();
    if (seconds_since(t0) >= 0.15) break;
  }
  std::vector<double> per_call;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t k = 0; k < calls; ++k) call();
    per_call.push_back(seconds_since(t0) / static_cast<double>(calls));
  }
  const double median = median_of(per_call), flop = 2.0 * n * n * n;
  std::cout << "RESULT {\"bench\": \"zoo_matmul\", \"shape\": \"1024x1024x1024\", \"threads\": " << threads
            << ", \"blas_kernel\": \"" << zoo::openblas_core() << "\""
            << ", \"ms\": " << median * 1e3 << ", \"gflops\": " << flop / median / 1e9
            << ", \"gflops_best\": " << flop / *std::min_element(per_call.begin(), per_call.end()) / 1e9
            << ", \"peak_rss_mb\": " << peak_rss_mb() << "}\n";
}

}  // namespace

int main(int argc, char** argv) {
  zoo::use_best_blas_kernel(argv);  // as zoo and train_<task> do: the same kernel as a user gets
  auto o = zoo::command_options("bench_step", "our training step at a Python twin's configuration");
  o.add_options()("task", zoo::kBenchNames, cxxopts::value<std::string>()->default_value("mlm"))(
      "threads", "LibTorch threads; 0 = the cores, fewer while other processes use them (train.threads=0)",
      cxxopts::value<int>()->default_value("2"))(
      "warmup", "untimed steps first", cxxopts::value<int>()->default_value("3"))(
      "steps", "timed steps", cxxopts::value<int>()->default_value("10"));
  std::string task;
  int threads = 0, warmup = 0, steps = 0;
  try {
    const auto args = zoo::parse_command_line(o, argc, argv);
    task = args["task"].as<std::string>();
    threads = args["threads"].as<int>();
    warmup = args["warmup"].as<int>();
    steps = args["steps"].as<int>();
  } catch (const std::exception& e) {
    std::cerr << "bench_step: " << e.what() << "\n";
    return 1;
  }
  if (steps < 1 || warmup < 0 || threads < 0) {
    std::cerr << "bench_step: need --steps >= 1, --warmup >= 0, --threads >= 0\n";
    return 1;
  }
  torch::manual_seed(0);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads > 0 ? threads : cores);
  std::optional<zoo::FreeCoreThreads> free_cores;  // --threads 0: as the trainer's default
  if (threads == 0) free_cores.emplace(cores, cores);
  zoo::keep_freed_memory_for_reuse();  // as the training binaries do
  if (task == "matmul") {
    run_matmul(threads, steps);
    return 0;
  }
  if (task == "rpn_pieces" || task == "rpn_eval_pieces") {  // medians per stage, as bench_rpn.py's
    const auto rpn = zoo::make_bench(task);
    std::map<std::string, std::vector<double>> times;
    std::vector<std::string> order;
    for (int i = 0; i < warmup + steps; ++i)
      for (const auto& [name, ms] : rpn->pieces()) {
        if (i == 0) order.push_back(name);
        if (i >= warmup) times[name].push_back(ms);
      }
    double total = 0;
    for (const auto& name : order) {
      const double m = median_of(times[name]);
      total += m;
      std::printf("    %-34s %8.3f\n", name.c_str(), m);
    }
    std::printf("    %-34s %8.3f\n", "sum", total);
    return 0;
  }
  const auto bench = zoo::make_bench(task);
  if (!bench) {
    std::cerr << "bench_step: unknown task '" << task << "' (" << zoo::kBenchNames << ")\n";
    return 1;
  }
  for (int i = 0; i < warmup; ++i) {
    if (free_cores) free_cores->update();
    bench->step(i);
  }
  std::vector<double> times;
  for (int i = 0; i < steps; ++i) {
    if (free_cores) free_cores->update();
    const auto t0 = std::chrono::steady_clock::now();
    bench->step(i);
    times.push_back(seconds_since(t0));
  }
  const double median = median_of(times);
  const auto [fastest, slowest] = std::minmax_element(times.begin(), times.end());
  std::cout << "RESULT {\"bench\": \"zoo_" << task << "\", \"threads\": " << threads
            << ", \"threads_at_end\": " << torch::get_num_threads() << ", \"steps_timed\": " << steps
            << ", \"warmup\": " << warmup << ", \"step_ms_median\": " << median * 1e3
            << ", \"step_ms_min\": " << *fastest * 1e3 << ", \"step_ms_max\": " << *slowest * 1e3
            << ", \"steps_per_s\": " << 1.0 / median << ", \"" << bench->items()
            << "_per_s\": " << bench->items_per_step() / median << ", \"gradient_mb\": " << bench->gradient_mb()
            << ", \"peak_rss_mb\": " << peak_rss_mb() << "}\n";
  return 0;
}
