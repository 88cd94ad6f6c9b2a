// CUDA gives what the CPU gives: every demo task's training step (loss and every gradient) and
// the RPN head's raw outputs, from the same weights and batch, within float tolerance. Built into
// test_cuda (CTest label `cuda`); skips with a message where LibTorch sees no CUDA device.
// scripts/device_check.sh runs it on a GPU machine.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "models/detection/rpn.h"
#include "tests/scratch_dir.h"
#include "train/config.h"
#include "train/registry.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

// Loose enough for cuBLAS/cuDNN's reduction orders, tight enough to catch a wrong kernel, a
// missed .to(device) or a dropped gradient. Needs full float32: LibTorch leaves TF32 off for
// matmuls but on for cuDNN convolutions (10-bit mantissa, ~1e-3 apart on Ampere and newer).
constexpr double kRtol = 1e-3, kAtol = 1e-4;

void full_float32() { at::globalContext().setAllowTF32CuDNN(false); }

constexpr const char* kNoCuda = "no CUDA device: torch::cuda::is_available() is false";

struct StepResult {
  double loss = 0;
  std::vector<torch::Tensor> grads;  // undefined where a parameter got no gradient
};

StepResult step_on(Task& task, const Batch& batch, const torch::Device& device) {
  task.model().to(device);
  task.model().zero_grad();
  const StepLosses losses = task.training_step(to_device(batch, device));
  torch::Tensor total;
  for (const auto& [name, term] : losses.terms) total = total.defined() ? total + term : term;
  total.backward();
  StepResult r;
  r.loss = total.item<double>();
  for (const auto& p : task.model().parameters())
    r.grads.push_back(p.grad().defined() ? p.grad().cpu().clone() : torch::Tensor());
  return r;
}

TEST(Cuda, DemoTrainingStepsMatchTheCpu) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << kNoCuda;
  }
  full_float32();
  int checked = 0;
  for (const auto& entry : task_registry()) {
    // The RPN's anchor sampler draws from the device's generator (randperm on the labels'
    // device), so CPU and CUDA sample different anchors: its head is compared below instead.
    if (entry.name == "rpn") continue;
    const std::string config = std::string(ZOO_SOURCE_DIR) + "/apps/configs/" + entry.name + "_demo.json";
    ASSERT_TRUE(fs::exists(config)) << config;
    Config cfg(entry.defaults());
    cfg.merge(read_json_file(config), config);
    const testing::ScratchDir run_dir("zoo_cuda_" + entry.name);
    auto task = entry.create(cfg, run_dir.path().string(), TaskData::kLoad);
    task->model().eval();  // no dropout: the two devices would draw different masks
    const Batch batch = task->train_batch(0);
    const StepResult cpu = step_on(*task, batch, torch::kCPU);
    const StepResult cuda = step_on(*task, batch, torch::kCUDA);
    EXPECT_NEAR(cuda.loss, cpu.loss, kRtol * std::abs(cpu.loss) + kAtol) << entry.name;
    ASSERT_EQ(cuda.grads.size(), cpu.grads.size());
    for (size_t i = 0; i < cpu.grads.size(); ++i) {
      ASSERT_EQ(cuda.grads[i].defined(), cpu.grads[i].defined()) << entry.name << " parameter " << i;
      if (cpu.grads[i].defined()) {
        EXPECT_TRUE(torch::allclose(cuda.grads[i], cpu.grads[i], kRtol, kAtol)) << entry.name << " parameter " << i;
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 4);  // mlm, sts, keypoints, heatmap
}

TEST(Cuda, RpnHeadMatchesTheCpu) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << kNoCuda;
  }
  full_float32();
  RpnOptions o;
  o.in_channels = 8;
  torch::manual_seed(1);
  RegionProposalNetwork rpn(o);
  const auto features = torch::randn({2, 8, 12, 16});
  auto run = [&](const torch::Device& d) {
    rpn->to(d);
    rpn->zero_grad();
    const auto out = rpn->forward({192, 256}, {{192, 256}, {160, 200}}, {features.to(d)});
    (out.objectness.sum() + out.pred_deltas.sum()).backward();
    std::vector<torch::Tensor> r{out.anchors.cpu(), out.objectness.detach().cpu(), out.pred_deltas.detach().cpu()};
    for (const auto& p : rpn->parameters()) r.push_back(p.grad().cpu().clone());
    return r;
  };
  const auto cpu = run(torch::kCPU), cuda = run(torch::kCUDA);
  for (size_t i = 0; i < cpu.size(); ++i) EXPECT_TRUE(torch::allclose(cuda[i], cpu[i], kRtol, kAtol)) << "output " << i;
}

}  // namespace
}  // namespace zoo
