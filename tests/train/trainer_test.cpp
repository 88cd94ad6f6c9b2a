// The generic trainer: accumulation, the non-finite guard, atomic checkpoints, bitwise resume,
// best-model tracking, metrics.jsonl and plots.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/scratch_dir.h"
#include "tests/train/toy_task.h"
#include "io/atomic_file.h"
#include "io/torch_compat.h"
#include "train/metrics_log.h"
#include "train/trainer.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;
using testing::ToyTask;

TrainOptions quiet(int64_t steps) {
  TrainOptions t;
  t.max_steps = steps;
  t.batch_size = 8;
  t.log_every_steps = 1000;
  t.eval_every_steps = 0;
  t.ckpt_every_steps = 0;
  t.plots = false;
  t.threads = 1;
  return t;
}

OptimOptions sgd(double lr) {
  OptimOptions o;
  o.name = "sgd";
  o.lr = lr;
  o.momentum = 0;
  return o;
}

std::vector<torch::Tensor> params_of(ToyTask& task) {
  std::vector<torch::Tensor> out;
  for (const auto& p : task.model().parameters()) out.push_back(p.detach().clone());
  return out;
}

TEST(Trainer, AccumulationEqualsTheLargeBatch) {
  const testing::ScratchDir scratch("zoo_trainer");
  ToyTask large(8), small(2);
  auto big = quiet(3), micro = quiet(3);
  micro.batch_size = 2;
  micro.accum_steps = 4;
  Trainer a(large, big, sgd(0.1), {}, scratch.path_to("accum_a"));
  Trainer b(small, micro, sgd(0.1), {}, scratch.path_to("accum_b"));
  // Dropout masks depend on the micro-batch layout: compare the arithmetic only.
  large.model_->dropout->options.p(0.0);
  small.model_->dropout->options.p(0.0);
  a.fit(false);
  b.fit(false);
  const auto pa = params_of(large), pb = params_of(small);
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::allclose(pa[i], pb[i], 1e-6, 1e-7)) << i;
}

TEST(Trainer, Bf16AutocastStepIsCloseToFp32AndLeavesFp32Weights) {
  const testing::ScratchDir scratch("zoo_trainer");
  ToyTask exact(8), autocast(8);
  auto fp32 = quiet(3), bf16 = quiet(3);
  bf16.precision = "bf16";
  Trainer a(exact, fp32, sgd(0.1), {}, scratch.path_to("fp32"));
  Trainer b(autocast, bf16, sgd(0.1), {}, scratch.path_to("bf16"));
  exact.model_->dropout->options.p(0.0);
  autocast.model_->dropout->options.p(0.0);
  a.fit(false);
  b.fit(false);
  EXPECT_FALSE(compat::autocast_enabled(torch::kCPU));  // only the training forward ran under it
  const auto pa = params_of(exact), pb = params_of(autocast);
  double max_diff = 0.0;
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pb[i].scalar_type(), torch::kFloat) << i;
    max_diff = std::max(max_diff, (pa[i] - pb[i]).abs().max().item<double>());
  }
  // Different (the products were rounded to bf16) but close: same data, same three steps.
  EXPECT_GT(max_diff, 0.0);
  EXPECT_LT(max_diff, 0.02);
}

TEST(TrainOptions, PrecisionAutoMeansBf16OnlyOnACpuThatHasIt) {
  TrainOptions o;
  const torch::Device cpu(torch::kCPU), cuda(torch::kCUDA, 0);
  EXPECT_FALSE(uses_bf16_autocast(o, cpu));  // the default is fp32
  o.precision = "bf16";
  EXPECT_TRUE(uses_bf16_autocast(o, cpu));
  EXPECT_TRUE(uses_bf16_autocast(o, cuda));
  o.precision = "auto";
  EXPECT_EQ(uses_bf16_autocast(o, cpu), cpu_has_native_bf16());
  EXPECT_FALSE(uses_bf16_autocast(o, cuda));
}

TEST(Trainer, NonFiniteLossStopsNamingTheStepAndKeepsTheLastCheckpoint) {
  const testing::ScratchDir scratch("zoo_trainer");
  const std::string dir = scratch.path_to("nan_stop");
  ToyTask task(8, /*nan at batch*/ 4);
  auto t = quiet(10);
  t.ckpt_every_steps = 2;
  Trainer trainer(task, t, sgd(0.05), {}, dir);
  try {
    trainer.fit(false);
    FAIL() << "expected the non-finite guard to stop training";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("step 5"), std::string::npos) << what;
    EXPECT_NE(what.find("mse=nan"), std::string::npos) << what;
    EXPECT_NE(what.find("intact"), std::string::npos) << what;
  }
  // last.pt is the step-4 checkpoint, loadable and finite.
  ToyTask reloaded(8);
  Trainer resumed(reloaded, quiet(4), sgd(0.05), {}, dir);
  EXPECT_EQ(resumed.fit(true).steps, 4);
  for (const auto& p : reloaded.model().parameters()) EXPECT_TRUE(p.isfinite().all().item<bool>());
}

TEST(Trainer, NonFiniteLossIsSkippedWhenConfigured) {
  const testing::ScratchDir scratch("zoo_trainer");
  ToyTask task(8, 2);
  auto t = quiet(5);
  t.on_nonfinite = "skip";
  Trainer trainer(task, t, sgd(0.05), {}, scratch.path_to("nan_skip"));
  EXPECT_EQ(trainer.fit(false).steps, 5);
  for (const auto& p : task.model().parameters()) EXPECT_TRUE(p.isfinite().all().item<bool>());
}

TEST(Trainer, ResumeIsBitwiseIdentical) {
  const testing::ScratchDir scratch("zoo_trainer");
  OptimOptions adamw;
  adamw.lr = 0.01;
  adamw.weight_decay = 0.1;
  ScheduleOptions cosine;
  cosine.name = "cosine";
  cosine.warmup_steps = 3;
  auto t = quiet(12);
  t.accum_steps = 2;
  t.grad_clip_norm = 0.5;

  ToyTask straight(8);
  Trainer(straight, t, adamw, cosine, scratch.path_to("resume_a")).fit(false);

  const std::string dir = scratch.path_to("resume_b");
  ToyTask first(8);
  Trainer(first, t, adamw, cosine, dir).fit(false, /*stop_after=*/5);
  ToyTask second(8, -1, /*a different init, overwritten by the checkpoint*/ 99);
  Trainer resumed(second, t, adamw, cosine, dir);
  EXPECT_EQ(resumed.fit(true).steps, 12);

  const auto pa = params_of(straight), pb = params_of(second);
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "parameter " << i;
}

TEST(Trainer, StaleTemporaryCheckpointNeverReplacesLast) {
  const testing::ScratchDir scratch("zoo_trainer");
  const std::string dir = scratch.path_to("stale_tmp");
  fs::create_directories(dir + "/checkpoints");
  { std::ofstream(dir + "/checkpoints/last.pt.tmp") << "half-written garbage"; }
  ToyTask task(8);
  Trainer(task, quiet(3), sgd(0.05), {}, dir).fit(false);
  EXPECT_FALSE(fs::exists(dir + "/checkpoints/last.pt.tmp"));
  ToyTask again(8);
  EXPECT_EQ(Trainer(again, quiet(3), sgd(0.05), {}, dir).fit(true).steps, 3);
}

TEST(AtomicWrite, AFailedWriteLeavesThePreviousFileIntact) {
  const testing::ScratchDir scratch("zoo_trainer");
  const std::string dir = scratch.path_to("atomic");
  fs::create_directories(dir);
  const std::string path = dir + "/last.pt";
  atomic_write_text(path, "good");
  EXPECT_THROW(atomic_write(path,
                            [](const ByteSink& sink) {
                              sink("partial", 7);
                              throw std::runtime_error("killed mid-save");
                            }),
               std::runtime_error);
  std::ifstream in(path);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "good");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(Trainer, TracksBestWritesMetricsAndPlots) {
  const testing::ScratchDir scratch("zoo_trainer");
  const std::string dir = scratch.path_to("best");
  ToyTask task(8);
  auto t = quiet(20);
  t.eval_every_steps = 5;
  t.log_every_steps = 5;
  t.plots = true;
  Trainer trainer(task, t, sgd(0.05), {}, dir);
  const auto result = trainer.fit(false);
  EXPECT_TRUE(fs::exists(dir + "/checkpoints/best.pt"));
  EXPECT_TRUE(fs::exists(dir + "/plots/summary.png"));
  int train_lines = 0, val_lines = 0;
  for (const auto& r : read_metrics_log(dir + "/metrics.jsonl")) {
    train_lines += r["split"] == "train";
    val_lines += r["split"] == "val";
  }
  EXPECT_EQ(train_lines, 4);
  EXPECT_EQ(val_lines, 4);
  EXPECT_LT(result.final_metrics.at("mse"), 5.0);
}

TEST(Trainer, EarlyStoppingAfterPatienceEvaluations) {
  const testing::ScratchDir scratch("zoo_trainer");
  // With a learning rate of ~0 the metric never improves after the first evaluation.
  ToyTask task(8);
  auto t = quiet(100);
  t.eval_every_steps = 2;
  t.early_stop_patience = 3;
  Trainer trainer(task, t, sgd(1e-12), {}, scratch.path_to("early"));
  const auto result = trainer.fit(false);
  EXPECT_TRUE(result.early_stopped);
  EXPECT_EQ(result.steps, 8);  // best at step 2, then 3 evaluations without improvement
}

}  // namespace
}  // namespace zoo

namespace zoo {
namespace {

// Denormal inputs read as 0 on every intra-op thread when configure_runtime flushes them, and
// keep their value when it does not. 1e-39 is below float32's smallest normal (1.18e-38). Each
// case runs in a fresh process (a threadsafe death test re-executes the binary), as a program
// starts: the threads inherit the flag when LibTorch creates them after configure_runtime.
void exit_with_denormal_count(bool flush) {
  TrainOptions o;
  o.threads = 2;
  o.flush_denormal = flush;
  configure_runtime(o);
  const auto x = torch::full({1 << 20}, 1e-39f);  // large enough to be split over the threads
  const int64_t kept = (x * 1.0f != 0).sum().item<int64_t>();
  std::exit(kept == 0 ? 10 : kept == (1 << 20) ? 11 : 12);
}

TEST(RuntimeDeathTest, FlushDenormalReachesTheIntraOpThreads) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(exit_with_denormal_count(true), ::testing::ExitedWithCode(10), "");
  EXPECT_EXIT(exit_with_denormal_count(false), ::testing::ExitedWithCode(11), "");
}

}  // namespace
}  // namespace zoo
