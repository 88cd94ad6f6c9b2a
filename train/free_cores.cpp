#include "train/free_cores.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

namespace zoo {

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

CpuTimes read_cpu_times() {
  CpuTimes t;
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (guest time is
  // already counted in user).
  std::ifstream stat("/proc/stat");
  std::string label;
  int64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (stat >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal && label == "cpu") {
    t.busy = user + nice + system + irq + softirq + steal;
    t.total = t.busy + idle + iowait;
  }
  // /proc/self/stat: utime and stime are fields 14 and 15, counted after the ")" that ends the
  // program's name (which may itself hold spaces).
  std::ifstream self("/proc/self/stat");
  const std::string line((std::istreambuf_iterator<char>(self)), std::istreambuf_iterator<char>());
  const size_t close = line.rfind(')');
  if (close != std::string::npos) {
    std::istringstream rest(line.substr(close + 1));
    std::string field;
    for (int i = 3; i <= 13 && rest >> field; ++i) {
    }
    int64_t utime = 0, stime = 0;
    if (rest >> utime >> stime) t.own = utime + stime;
  }
  return t;
}

double cores_used_by_others(const CpuTimes& before, const CpuTimes& after, int cores) {
  const double total = static_cast<double>(after.total - before.total);
  if (total <= 0 || cores < 1) return 0.0;
  const double others = static_cast<double>((after.busy - before.busy) - (after.own - before.own));
  return std::clamp(others / (total / cores), 0.0, static_cast<double>(cores));
}

int threads_for_free_cores(double free_cores, int max_threads) {
  return std::clamp(static_cast<int>(std::floor(free_cores + 0.5)), 1, std::max(1, max_threads));
}

FreeCoreThreads::FreeCoreThreads(int max_threads, int cores)
    : max_threads_(std::max(1, max_threads)),
      cores_(std::max(1, cores)),
      threads_(max_threads_),
      last_(read_cpu_times()),
      last_ns_(now_ns()) {}

int FreeCoreThreads::update() {
  const int64_t now = now_ns();
  if (now - last_ns_ < 1'000'000'000) return threads_;  // /proc/stat counts in 10 ms ticks
  const CpuTimes times = read_cpu_times();
  const double free = cores_ - cores_used_by_others(last_, times, cores_);
  last_ = times;
  last_ns_ = now;
  const int threads = threads_for_free_cores(free, max_threads_);
  if (threads != threads_) {
    torch::set_num_threads(threads);
    threads_ = threads;
  }
  return threads_;
}

}  // namespace zoo
