#include "train/free_cores.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <time.h>

namespace zoo {
namespace {

TEST(FreeCores, OthersAreTheMachinesBusyTimeLessOurs) {
  // 2 cores for 1 s = 200 ticks in all; the machine was busy 150 of them, 60 of them ours: the
  // others used 90 ticks, 0.9 of a core.
  const CpuTimes before{1000, 5000, 300}, after{1150, 5200, 360};
  EXPECT_DOUBLE_EQ(cores_used_by_others(before, after, 2), 0.9);
  // A quiet machine: all the busy time is ours.
  EXPECT_DOUBLE_EQ(cores_used_by_others(before, {1200, 5200, 500}, 2), 0.0);
  // Clamped at 0: the two files are read at slightly different moments, so ours (170 ticks)
  // can exceed the machine's (150).
  EXPECT_DOUBLE_EQ(cores_used_by_others(before, {1150, 5200, 470}, 2), 0.0);
  EXPECT_DOUBLE_EQ(cores_used_by_others(before, before, 2), 0.0);  // no time passed
}

TEST(FreeCores, ACoreCountsWhenHalfOfItIsFree) {
  EXPECT_EQ(threads_for_free_cores(2.0, 2), 2);  // quiet: the configured count
  EXPECT_EQ(threads_for_free_cores(1.0, 2), 1);  // one competing process on 2 cores
  EXPECT_EQ(threads_for_free_cores(1.4, 2), 1);
  EXPECT_EQ(threads_for_free_cores(1.5, 2), 2);
  EXPECT_EQ(threads_for_free_cores(0.1, 2), 1);  // heavy load: never fewer than one
  EXPECT_EQ(threads_for_free_cores(8.0, 4), 4);  // never more than configured
}

TEST(FreeCores, OurOwnWorkIsNotCountedAsOthers) {
  const CpuTimes before = read_cpu_times();
  ASSERT_GT(before.total, 0) << "no /proc/stat";
  // Use 0.3 s of CPU time in this process (measured by the process's own clock, so that a busy
  // machine only makes it take longer).
  const auto cpu_seconds = [] {
    timespec t{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  };
  const double start = cpu_seconds();
  volatile double x = 0;
  while (cpu_seconds() - start < 0.3) x = x + 1.0;
  const CpuTimes after = read_cpu_times();
  // 30 ticks of 10 ms, less up to 2 for where the reads fall between ticks.
  EXPECT_GE(after.own - before.own, 28);
  EXPECT_GE(after.busy - before.busy, after.own - before.own - 2);  // ours is part of the machine's
}

TEST(FreeCores, UpdateWaitsASecondBetweenReadings) {
  const int threads = torch::get_num_threads();
  FreeCoreThreads follow(threads, threads);
  EXPECT_EQ(follow.update(), threads);  // too soon to read again: the configured count
  EXPECT_EQ(torch::get_num_threads(), threads);
}

}  // namespace
}  // namespace zoo
