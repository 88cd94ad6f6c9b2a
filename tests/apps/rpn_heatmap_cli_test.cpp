// `train_rpn` and `train_heatmap` end to end on generated data: train a few steps, eval with
// pictures, export (TorchScript loadable from Python where /usr/bin/python3 has torch), predict
// on an image file; a rejected config leaves no run directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "data/detection_synth.h"
#include "data/hand_synth.h"
#include "tests/apps/run_binary.h"
#include "tests/scratch_dir.h"

namespace {

namespace fs = std::filesystem;

zoo::testing::Outcome run(const std::string& args) { return zoo::testing::run_binary(args); }

// Each test's run in a folder of its own, removed after it.
class RpnCli : public zoo::testing::ScratchDirTest {};
class HeatmapCli : public zoo::testing::ScratchDirTest {};

bool python_has_torch() { return std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0; }

TEST_F(RpnCli, TrainEvalExportPredictOnGeneratedShapes) {
  const std::string dir = temp_path("rpn");
  auto r = run("train_rpn --set data.bad_boxes=keep --out " + dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("data.bad_boxes must be one of clip, drop, reject (got \"keep\")"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir));

  const std::string tiny =
      " --set model.base_width=8 --set 'model.anchor_sizes=[16,32,64]' --set model.post_nms_top_n_test=100"
      " --set data.synthetic_image_size=128 --set data.min_size=128 --set data.max_size=128"
      " --set data.synthetic_val_size=4 --set eval.batch_size=2 --set train.batch_size=2 --set train.threads=1"
      " --set schedule.warmup_steps=1 --set train.max_steps=2 --set train.eval_every_steps=2";
  r = run("train_rpn" + tiny + " --out " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("recall100_iou70"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir + "/plots/proposals_val.png"));
  r = run("zoo export --run " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"model.pt", "weights.pt", "meta.json"}) EXPECT_TRUE(fs::exists(dir + "/export/" + f)) << f;
  const std::string image = dir + "/shapes.jpg";
  cv::imwrite(image, zoo::synthetic_detection(3, 0, {}).image);
  r = run("zoo predict --run " + dir + " " + image);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir + "/predictions/shapes_proposals.png")) << r.output;
  if (python_has_torch()) {
    // The exported graph holds the post-processing: Python needs nothing but torch.
    const std::string py = "/usr/bin/python3 -c \"import torch; m = torch.jit.load('" + dir +
                           "/export/model.pt'); b, s, n = m(torch.zeros(1, 3, 128, 128), torch.tensor([[128, 128]])); "
                           "assert b.shape == (1, 100, 4) and int(n[0]) <= 100\"";
    EXPECT_EQ(std::system(py.c_str()), 0);
  }
}

TEST_F(HeatmapCli, TrainEvalExportPredictOnSyntheticHands) {
  const std::string dir = temp_path("heatmap");
  const std::string tiny =
      " --set 'model.encoder_channels=[8,16]' --set 'model.decoder_channels=[16]' --set data.image_size=64"
      " --set data.synthetic_train_size=16 --set data.synthetic_val_size=8 --set eval.mean_pose_samples=8"
      " --set eval.train_samples=8 --set eval.batch_size=8 --set train.batch_size=4 --set train.threads=1"
      " --set data.workers=1 --set schedule.warmup_steps=1 --set train.max_steps=2 --set train.eval_every_steps=2";
  auto r = run("train_heatmap" + tiny + " --out " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("epe_2d_px"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir + "/plots/examples_val.png"));
  r = run("zoo export --run " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir + "/export/model.pt"));
  const std::string image = dir + "/hand.png";
  cv::imwrite(image, zoo::synthetic_hand(5, 64).image);
  r = run("zoo predict --run " + dir + " " + image);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir + "/predictions/hand_pred.png")) << r.output;
}

}  // namespace
