#include "train/free_cores.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <chrono>

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
  // Keep one core busy for ~0.3 s in this process.
  const auto start = std::chrono::steady_clock::now();
  volatile double x = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300)) x = x + 1.0;
  const CpuTimes after = read_cpu_times();
  EXPECT_GE(after.own - before.own, 20);  // >= 0.2 s of our CPU time, in 10 ms ticks
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
