// The "heatmap" task: both heads learn on a fixed batch, the export returns the model's
// coordinates and heatmaps (in C++ and, where /usr/bin/python3 has torch, in Python), config
// errors name the key, and evaluation draws the heatmaps.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "io/formats/hf_bert.h"
#include "tests/scratch_dir.h"
#include "train/tasks/heatmap/task.h"
#include "train/trainer.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

// Each test's run and export in a folder of its own, removed after it.
class HeatmapTaskTest : public testing::ScratchDirTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string path(const std::string& name) const { return temp_path(name); }
  const fs::path dir_ = scratch_.path();
};

// Tiny: 64 px, two encoder stages (stride 4) and one decoder stage -> 32 x 32 heatmaps.
Config tiny_config(const std::string& head, const std::vector<std::string>& sets = {}) {
  Config cfg(heatmap_task_defaults());
  cfg.merge(Json{{"model", {{"head", head}, {"encoder_channels", {8, 16}}, {"decoder_channels", {16}}}},
                 {"data", {{"image_size", 64}, {"synthetic_train_size", 64}, {"synthetic_val_size", 8}, {"workers", 1}}},
                 {"eval", {{"batch_size", 8}, {"mean_pose_samples", 16}, {"train_samples", 8}}},
                 {"train", {{"batch_size", 8}, {"threads", 1}}}},
            "test");
  for (const auto& s : sets) cfg.set(s);
  return cfg;
}

TEST_P(HeatmapTaskTest, TrainingStepsReduceTheLossOnAFixedBatch) {
  auto task = make_heatmap_task(tiny_config(GetParam()), "");
  const Batch batch = task->train_batch(0);
  torch::optim::Adam opt(task->model().parameters(), torch::optim::AdamOptions(3e-3));
  task->model().train();
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    opt.zero_grad();
    const StepLosses out = task->training_step(batch);
    ASSERT_EQ(out.terms.size(), 1u);
    const torch::Tensor loss = out.terms.begin()->second;
    EXPECT_EQ(out.weight, batch.at("visible").sum().item<double>());
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 0.6 * first) << GetParam() << ": first " << first << " last " << last;
}

TEST_P(HeatmapTaskTest, PredictionsAreExpectationsOfTheHeatmaps) {
  auto task = make_heatmap_task(tiny_config(GetParam()), "");
  task->model().eval();
  torch::NoGradGuard no_grad;
  const Batch out = task->predict(task->eval_batches("val").at(0));
  const auto coords = out.at("keypoints"), maps = out.at("heatmaps").to(torch::kDouble);
  ASSERT_EQ(coords.size(2), 2);
  ASSERT_EQ(maps.dim(), 4);
  // Each map is a distribution, and the coordinates are its mean on the pixel-centre grid.
  EXPECT_LT((maps.sum({2, 3}) - 1).abs().max().item<double>(), 1e-6);
  const int64_t h = maps.size(2), w = maps.size(3);
  const auto gx = (torch::arange(w, torch::kDouble) * 2 + 1) / w - 1;
  const auto gy = (torch::arange(h, torch::kDouble) * 2 + 1) / h - 1;
  const auto x = (maps.sum(2) * gx).sum(-1), y = (maps.sum(3) * gy).sum(-1);
  EXPECT_LT((torch::stack({x, y}, -1) - coords.to(torch::kDouble)).abs().max().item<double>(), 1e-5);
}

TEST_P(HeatmapTaskTest, ExportReturnsTheModelsCoordinatesAndHeatmaps) {
  auto task = make_heatmap_task(tiny_config(GetParam()), dir_.string());
  task->model().train();
  {
    torch::NoGradGuard no_grad;  // moves the BatchNorm running statistics off their initial values
    for (int64_t i = 0; i < 3; ++i) task->predict(task->train_batch(i));
  }
  task->model().eval();
  const std::string out = path("export");
  task->export_model(out);
  const Json meta = read_json_file(out + "/meta.json");
  EXPECT_EQ(meta.at("task"), "heatmap");
  EXPECT_EQ(meta.at("architecture").at("head"), GetParam());
  const Batch b = task->eval_batches("val").at(0);
  Batch expected;
  {
    torch::NoGradGuard no_grad;
    expected = task->predict(b);
  }
  torch::jit::Module module = torch::jit::load(out + "/model.pt");
  const auto result = module.forward({b.at("image")}).toTuple();
  const torch::Tensor coords = result->elements()[0].toTensor(), maps = result->elements()[1].toTensor();
  EXPECT_EQ(meta.at("output").at("heatmaps").at("shape")[2].get<int64_t>(), maps.size(2));
  EXPECT_LT((coords - expected.at("keypoints")).abs().max().item<double>(), 1e-5);
  EXPECT_LT((maps - expected.at("heatmaps")).abs().max().item<double>(), 1e-5);

  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 with torch not found: Python parity not checked";
  write_torch_tensor_dict(path("input.pt"), {{"image", b.at("image")}});
  std::ofstream(path("check.py")) << R"(import sys, torch
d = sys.argv[1]
m = torch.jit.load(d + "/export/model.pt")
with torch.no_grad():
    c, h = m(torch.load(d + "/input.pt")["image"])
torch.save({"coords": c}, d + "/output.pt")
)";
  ASSERT_EQ(std::system(("/usr/bin/python3 " + path("check.py") + " " + dir_.string() + " >" + path("py.log") + " 2>&1")
                            .c_str()),
            0)
      << std::ifstream(path("py.log")).rdbuf();
  const torch::Tensor python = read_torch_tensor_dict(path("output.pt")).at("coords");
  EXPECT_LT((python - expected.at("keypoints")).abs().max().item<double>(), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Heads, HeatmapTaskTest, ::testing::Values("soft_argmax", "per_axis"));

TEST(HeatmapTask, ConfigErrorsNameTheKey) {
  const auto error = [](const std::vector<std::string>& sets) -> std::string {
    try {
      make_heatmap_task(tiny_config("soft_argmax", sets), "");
    } catch (const UserError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(error({"model.head=argmax"}).find("model.head"), std::string::npos);
  EXPECT_NE(error({"model.decoder=bilinear"}).find("model.decoder"), std::string::npos);
  EXPECT_NE(error({"model.beta=0"}).find("model.beta"), std::string::npos);
  EXPECT_NE(error({"model.head=per_axis", "loss.js_weight=1"}).find("loss.js_weight"), std::string::npos);
}

TEST(HeatmapTask, JsRegulariserAddsToTheCoordinateLoss) {
  auto plain = make_heatmap_task(tiny_config("soft_argmax"), "");
  auto regularised = make_heatmap_task(tiny_config("soft_argmax", {"loss.js_weight=1"}), "");
  const Batch batch = plain->train_batch(0);
  plain->model().eval();
  regularised->model().eval();
  torch::NoGradGuard no_grad;
  // Same seed, same initial weights: the difference is the (positive) JS term.
  const double a = plain->training_step(batch).terms.begin()->second.item<double>();
  const double b = regularised->training_step(batch).terms.begin()->second.item<double>();
  EXPECT_GT(b, a + 1e-3);
  EXPECT_LT(b, a + std::log(2.0) + 1e-6);  // JS is at most log 2
}

}  // namespace
}  // namespace zoo
