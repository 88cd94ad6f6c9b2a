// `train_keypoints` / `zoo` end to end on synthetic hands: train a few steps, eval (val and train
// splits, pictures), export (TorchScript loadable from Python), predict on an image file.
#include <gtest/gtest.h>

#include "tests/apps/run_binary.h"
#include "tests/scratch_dir.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>

#include <nlohmann/json.hpp>

#include "data/hand_synth.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

zoo::testing::Outcome run(const std::string& args) { return zoo::testing::run_binary(args); }

// Each test's files in a folder of its own, removed after it.
class KeypointsCli : public zoo::testing::ScratchDirTest {};

const std::string kTiny =
    " --set model.base_width=8 --set data.image_size=64 --set data.synthetic_train_size=64"
    " --set data.synthetic_val_size=8 --set eval.mean_pose_samples=16 --set eval.train_samples=8"
    " --set eval.batch_size=8 --set train.batch_size=4 --set train.threads=1 --set data.workers=1"
    " --set schedule.warmup_steps=1";

TEST_F(KeypointsCli, RejectedConfigNamesTheKeyAndLeavesNoRun) {
  const std::string dir = temp_path("never");
  auto r = run("train_keypoints --set model.coord_dims=5 --out " + dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("model.coord_dims must be 2 or 3"), std::string::npos) << r.output;
  r = run("train_keypoints --set 'data.train_file=\"/nonexistent/annotations.json\"' --out " + dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("data.train_file names a file or directory that does not exist"), std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(dir));
  r = run("zoo tasks");
  EXPECT_NE(r.output.find("keypoints"), std::string::npos);
  r = run("zoo tasks keypoints");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("\"val_from_index\""), std::string::npos);
}

TEST_F(KeypointsCli, TrainEvalExportPredictOnSyntheticHands) {
  const std::string dir = temp_path("run");
  auto r = run("train_keypoints" + kTiny + " --set train.max_steps=3 --set train.eval_every_steps=3 --out " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("mpjpe_mm"), std::string::npos) << r.output;
  for (const char* f : {"checkpoints/best.pt", "checkpoints/last.pt", "config.json", "metrics.jsonl",
                        "plots/examples_val.png", "plots/pck_val.png", "plots/summary.png"})
    EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;

  r = run("zoo eval --run " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* m : {"mpjpe_mm", "pa_mpjpe_mm", "pck_auc", "epe_2d_px", "mean_pose_mpjpe_mm"})
    EXPECT_NE(r.output.find(m), std::string::npos) << m << "\n" << r.output;
  EXPECT_TRUE(fs::exists(dir + "/eval_val.json"));
  r = run("zoo eval --run " + dir + " --split train");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir + "/plots/examples_train.png"));
  r = run("zoo eval --run " + dir + " --split test");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("split 'test' does not exist"), std::string::npos) << r.output;
  // Issue 29, class 11: eval.batch_size larger than the split is one batch of the split (it
  // decoded a million images), checked against memory, and gives the same metrics.
  const Json at8 = Json::parse(std::ifstream(dir + "/eval_val.json"));
  r = run("zoo eval --run " + dir + " --set eval.batch_size=1000000");
  ASSERT_EQ(r.status, 0) << r.output;
  const Json at_million = Json::parse(std::ifstream(dir + "/eval_val.json"));
  EXPECT_NEAR(at_million.at("mpjpe_mm").get<double>(), at8.at("mpjpe_mm").get<double>(), 1e-3);
  EXPECT_NEAR(at_million.at("pck_auc").get<double>(), at8.at("pck_auc").get<double>(), 1e-4);

  r = run("zoo export --run " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"model.pt", "model.onnx", "weights.pt", "meta.json"}) EXPECT_TRUE(fs::exists(dir + "/export/" + f)) << f;

  const std::string image = temp_path("hand") + ".png";
  ASSERT_TRUE(cv::imwrite(image, zoo::synthetic_hand(12345, 128).image));
  r = run("zoo predict --run " + dir + " " + image);
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string drawn = dir + "/predictions/" + fs::path(image).stem().string() + "_pred.png";
  EXPECT_NE(r.output.find(drawn), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("little_tip"), std::string::npos) << r.output;
  EXPECT_FALSE(cv::imread(drawn).empty());
  // Two inputs with one file name (issue 29: the second drawing overwrote the first) get two
  // pictures.
  const std::string other = temp_path("other");
  fs::create_directories(other);
  fs::copy_file(image, other + "/" + fs::path(image).filename().string());
  r = run("zoo predict --run " + dir + " " + image + " " + other + "/" + fs::path(image).filename().string());
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string second = dir + "/predictions/" + fs::path(image).stem().string() + "_2_pred.png";
  EXPECT_NE(r.output.find(second), std::string::npos) << r.output;
  EXPECT_FALSE(cv::imread(second).empty());
  fs::remove_all(other);
  // Issue 29: `kill -9` during `zoo predict --run` left its temporary export. The next predict
  // removes those whose process is gone, and leaves a living process's alone.
  {
    const std::string tmp = temp_path("tmpdir");
    fs::create_directories(tmp);
    const pid_t gone = ::fork();
    if (gone == 0) ::_exit(0);
    ::waitpid(gone, nullptr, 0);
    const std::string abandoned = tmp + "/zoo-predict." + std::to_string(gone) + ".x1y2.tmp";
    const std::string alive = tmp + "/zoo-predict." + std::to_string(::getpid()) + ".a3b4.tmp";
    fs::create_directories(abandoned);
    fs::create_directories(alive);
    ::setenv("TMPDIR", tmp.c_str(), 1);
    r = run("zoo predict --run " + dir + " " + image);
    ::unsetenv("TMPDIR");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_FALSE(fs::exists(abandoned));
    EXPECT_TRUE(fs::exists(alive));
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp), fs::directory_iterator()), 1) << "its own removed on exit";
    fs::remove_all(tmp);
  }
  r = run("zoo predict --run " + dir + " /nonexistent/hand.jpg");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "zoo: error: /nonexistent/hand.jpg: no such image file\n");

  // The exported TorchScript runs in Python without this project.
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0) {
    const std::string cmd = "/usr/bin/python3 -c \"import torch; m = torch.jit.load('" + dir +
                            "/export/model.pt'); y = m(torch.zeros(2, 3, 64, 64)); "
                            "assert tuple(y.shape) == (2, 21, 3) and bool(torch.isfinite(y).all()), y.shape\" 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
}

}  // namespace
