// The trainer's TensorBoard log across an interruption, read by TensorBoard's own reader: a run
// killed after logging past its checkpoint and then resumed shows every step once, in order,
// with the values of the uninterrupted run, and its HParams row the uninterrupted run's final
// metrics.
#include "train/tensorboard_log.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/scratch_dir.h"
#include "tests/train/toy_task.h"
#include "train/trainer.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;
using testing::ToyTask;

const std::string kPython = std::string(ZOO_SOURCE_DIR) + "/build-py/venv/bin/python";
const std::string kCheck = std::string(ZOO_SOURCE_DIR) + "/tests/python/tensorboard_check.py";

// TensorBoard's view of a run directory (tests/python/tensorboard_check.py); status 77: no package.
std::pair<int, Json> tensorboard_view(const std::string& dir) {
  FILE* pipe = ::popen((kPython + " " + kCheck + " " + dir + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (pipe != nullptr && std::fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
  const int raw = pipe != nullptr ? ::pclose(pipe) : -1;
  const int status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  if (status != 0) return {status, Json(out)};
  return {0, Json::parse(out)};
}

TrainOptions every_step(int64_t steps) {
  TrainOptions t;
  t.max_steps = steps;
  t.batch_size = 8;
  t.log_every_steps = 1;
  t.eval_every_steps = 2;
  t.ckpt_every_steps = 0;
  t.plots = false;
  t.threads = 1;
  return t;
}

OptimOptions sgd() {
  OptimOptions o;
  o.name = "sgd";
  o.lr = 0.05;
  o.momentum = 0;
  return o;
}

TEST(TensorBoardLog, AResumedRunShowsEveryStepOnceWithTheUninterruptedValues) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no reference venv (scripts/setup_python_refs.sh)";
  const auto t = every_step(10);
  const testing::ScratchDir scratch("zoo_tblog");
  const std::string straight_dir = scratch.path_to("straight"), dir = scratch.path_to("resumed");
  // What the apps write before training, which starts the hparams session.
  for (const auto& d : {straight_dir, dir}) {
    fs::create_directories(d);
    std::ofstream(d + "/config.json") << R"({"optim": {"lr": 0.05}})";
  }
  ToyTask straight(8);
  Trainer(straight, t, sgd(), {}, straight_dir).fit(false);

  // Checkpoint at step 4, then a process that logged up to step 7 and died: its last.pt (step 7)
  // is replaced by the step-4 one it never got to overwrite, as if killed before its next save.
  ToyTask first(8);
  Trainer(first, t, sgd(), {}, dir).fit(false, /*stop_after=*/4);
  fs::copy_file(dir + "/checkpoints/last.pt", dir + "/step4.pt");
  ToyTask second(8);
  Trainer(second, t, sgd(), {}, dir).fit(true, /*stop_after=*/7);
  fs::rename(dir + "/step4.pt", dir + "/checkpoints/last.pt");
  ToyTask third(8);
  EXPECT_EQ(Trainer(third, t, sgd(), {}, dir).fit(true).steps, 10);

  const auto [status, view] = tensorboard_view(dir);
  if (status == 77) GTEST_SKIP() << view.get<std::string>();
  ASSERT_EQ(status, 0) << view;
  const auto [status_straight, expected] = tensorboard_view(straight_dir);
  ASSERT_EQ(status_straight, 0) << expected;
  for (const std::string tag : {"train/loss", "train/loss/mse", "train/lr", "train/grad_norm", "val/mse"}) {
    SCOPED_TRACE(tag);
    const Json& got = view["scalars"].at(tag);
    std::vector<int64_t> steps;
    for (const auto& p : got) steps.push_back(p[0].get<int64_t>());
    std::vector<int64_t> want;
    for (int64_t s = tag == "val/mse" ? 2 : 1; s <= 10; s += tag == "val/mse" ? 2 : 1) want.push_back(s);
    EXPECT_EQ(steps, want);
    // Resume is bitwise exact, and both sides are float32 as the format stores them: no tolerance.
    EXPECT_EQ(got, expected["scalars"].at(tag));
  }
  EXPECT_EQ(view["hparams"].at("start"), Json({{"optim.lr", 0.05}}));
  EXPECT_EQ(view["hparams"].at("end_status"), 1);  // STATUS_SUCCESS
  // One row, with the final evaluation and training loss; the interrupted process, which never
  // finished, added none.
  EXPECT_EQ(view.at("table"), expected.at("table"));
  const Json& row = view.at("table").at("sessions").at("hparams");
  EXPECT_EQ(row.size(), 2u) << row;
  EXPECT_EQ(row.at("val/mse"), view.at("scalars").at("val/mse").back());
  EXPECT_EQ(row.at("train/loss"), view.at("scalars").at("train/loss").back());
}

TEST(ConfigHparams, FlattensTheConfigAndLeavesOutRunInfo) {
  const Json config = {{"task", "sts"},
                       {"optim", {{"lr", 2e-5}, {"name", "adamw"}}},
                       {"data", {{"swap_pairs", true}, {"text_files", {"a.txt", "b.txt"}}}},
                       {"run_info", {{"git", "abc"}}}};
  const auto h = config_hparams(config);
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(std::get<std::string>(h.at("task")), "sts");
  EXPECT_EQ(std::get<double>(h.at("optim.lr")), 2e-5);
  EXPECT_EQ(std::get<std::string>(h.at("optim.name")), "adamw");
  EXPECT_EQ(std::get<bool>(h.at("data.swap_pairs")), true);
  EXPECT_EQ(std::get<std::string>(h.at("data.text_files")), R"(["a.txt","b.txt"])");
}

}  // namespace
}  // namespace zoo
