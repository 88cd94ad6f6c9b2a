#pragma once
// LibTorch's thread count that follows the cores other processes leave free.
//
// LibTorch's OpenMP steps split every operation among its threads and wait at a barrier for the
// slowest. When another process takes one of two cores, the thread that shares it runs at half
// speed and the other spins at the barrier: a step took 1.4-1.5x its time on one quiet core, and
// far longer under heavier load (issue #28). One thread per free core avoids both.
#include <cstdint>

namespace zoo {

// CPU time in clock ticks (/proc/stat and /proc/self/stat): all cores busy, all cores in total,
// and this process's own.
struct CpuTimes {
  int64_t busy = 0, total = 0, own = 0;
};
CpuTimes read_cpu_times();

// Cores that other processes used between two readings, out of `cores`: their busy time (the
// machine's, less ours, steal included) over the wall time the readings span.
double cores_used_by_others(const CpuTimes& before, const CpuTimes& after, int cores);

// Threads for `free_cores` free of `cores`, at most `max_threads`, at least one: a core counts
// when at least half of it is free.
int threads_for_free_cores(double free_cores, int max_threads);

class FreeCoreThreads {
 public:
  // Up to `max_threads` (the configured count); `cores` online, to compare with.
  FreeCoreThreads(int max_threads, int cores);
  // Call before each step: at most once per second reads the CPU times and sets LibTorch's
  // threads to the free cores. Returns the thread count in effect.
  int update();

 private:
  int max_threads_, cores_, threads_;
  CpuTimes last_;
  int64_t last_ns_;
};

}  // namespace zoo
