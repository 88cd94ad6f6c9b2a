// All-reduce bandwidth of the Gloo process group between the ranks of a job, for the sizes of
// our models' gradients. Run under a launcher:
//   build/bin/zoo launch --nproc 2 -- build/bin/bench_allreduce [--reps 10]
// Prints, per message size, the median time, the algorithm bandwidth (bytes / time) and the bus
// bandwidth (algbw * 2 (n - 1) / n: what each link carried in a ring all-reduce, the figure
// that predicts other world sizes), as nccl-tests report them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "apps/command_options.h"
#include "train/config.h"
#include "train/distributed.h"

int main(int argc, char** argv) {
  auto o = zoo::command_options("bench_allreduce", "all-reduce bandwidth between the ranks of a job");
  o.add_options()("reps", "timed all-reduces per size", cxxopts::value<int>()->default_value("10"));
  try {
    const int reps = std::max(1, zoo::parse_command_line(o, argc, argv)["reps"].as<int>());
    const zoo::DistributedEnv env = zoo::distributed_env();
    if (!env.enabled()) {
      std::fprintf(stderr, "bench_allreduce: run it under `zoo launch --nproc N --` (WORLD_SIZE is not set)\n");
      return 2;
    }
    torch::set_num_threads(1);
    auto group = zoo::ProcessGroup::connect(env, torch::kCPU, std::chrono::minutes(5));
    const double n = env.world_size;
    if (env.rank == 0)
      std::printf("%d ranks, Gloo on %s\n%12s %12s %14s %14s\n", env.world_size, env.master_addr.c_str(), "bytes",
                  "median ms", "algbw GB/s", "busbw GB/s");
    for (int64_t bytes : {int64_t(1) << 16, int64_t(1) << 20, int64_t(4) << 20, int64_t(16) << 20,
                          int64_t(64) << 20, int64_t(256) << 20}) {
      std::vector<torch::Tensor> t{torch::ones({bytes / 4}, torch::kFloat32)};
      group->allreduce_sum(t);  // warm-up: connections and buffers
      std::vector<double> ms;
      for (int r = 0; r < reps; ++r) {
        group->barrier();
        const auto start = std::chrono::steady_clock::now();
        group->allreduce_sum(t);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      }
      std::sort(ms.begin(), ms.end());
      const double median = ms[ms.size() / 2];
      const double algbw = static_cast<double>(bytes) / (median * 1e-3) / 1e9;
      if (env.rank == 0)
        std::printf("%12lld %12.3f %14.3f %14.3f\n", static_cast<long long>(bytes), median, algbw,
                    algbw * 2 * (n - 1) / n);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_allreduce: error: %s\n", e.what());
    return 1;
  }
}
