// The "keypoints" task: config checks, deterministic (and resumable) batches, labels that stay
// exact under rotation augmentation, learning on a fixed batch, the evaluator on hand-made
// predictions, pictures, init.checkpoint, and the export (TorchScript parity in C++ and Python,
// torchvision layout of weights.pt).
#include "train/tasks/keypoints/task.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "data/hand_batch.h"
#include "data/hand_synth.h"
#include "io/formats/hf_bert.h"
#include "tests/scratch_dir.h"
#include "train/trainer.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

const std::string kPython = "/usr/bin/python3";

// Each test's run and export in a folder of its own, removed after it.
class KeypointsTaskTest : public testing::ScratchDirTest {
 protected:
  std::string path(const std::string& name) const { return temp_path(name); }
  const fs::path dir_ = scratch_.path();
};

// Tiny: width 8, 64 px, a few samples.
Config tiny_config(const std::vector<std::string>& sets = {}) {
  Config cfg(keypoints_task_defaults());
  cfg.merge(Json{{"model", {{"base_width", 8}}},
                 {"data", {{"image_size", 64}, {"synthetic_train_size", 64}, {"synthetic_val_size", 12}, {"workers", 1}}},
                 {"eval", {{"batch_size", 8}, {"mean_pose_samples", 16}, {"train_samples", 8}}},
                 {"train", {{"batch_size", 4}, {"threads", 1}}}},
            "test");
  for (const auto& s : sets) cfg.set(s);
  return cfg;
}

bool bitwise_equal(const Batch& a, const Batch& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, t] : a)
    if (!b.count(k) || !t.sizes().equals(b.at(k).sizes()) || !t.equal(b.at(k))) return false;
  return true;
}

bool python_has_torch() {
  static const bool ok = std::system((kPython + " -c 'import torch, torchvision' >/dev/null 2>&1").c_str()) == 0;
  return ok;
}

std::string expect_user_error(const std::vector<std::string>& sets) {
  try {
    make_keypoints_task(tiny_config(sets), "");
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_F(KeypointsTaskTest, ConfigErrorsNameTheKey) {
  EXPECT_NE(expect_user_error({"model.coord_dims=4"}).find("model.coord_dims"), std::string::npos);
  EXPECT_NE(expect_user_error({"model.depth=50"}).find("model.depth"), std::string::npos);
  EXPECT_NE(expect_user_error({"data.val_from_index=10"}).find("data.val_from_index needs data.train_file"),
            std::string::npos);
  EXPECT_NE(expect_user_error({"data.val_from_index=0"}).find("data.val_from_index must be -1"), std::string::npos);
  EXPECT_NE(expect_user_error({"data.train_file=\"/nonexistent/a.json\""}).find("data.train_file names a file"),
            std::string::npos);
  EXPECT_NE(expect_user_error({"loss.kind=\"huber\""}).find("loss.kind"), std::string::npos);
  EXPECT_NE(expect_user_error({"data.augment.scale_min=0"}).find("data.augment.scale_min"), std::string::npos);
  EXPECT_NE(expect_user_error({"init.checkpoint=\"/nonexistent/best.pt\""}).find("init.checkpoint"),
            std::string::npos);
  EXPECT_NE(expect_user_error({"data.image_size=16"}).find("data.image_size"), std::string::npos);
}

TEST_F(KeypointsTaskTest, TrainBatchesArePureFunctionsOfSeedAndIndex) {
  auto sequential = make_keypoints_task(tiny_config({"data.workers=2"}), "");
  std::vector<Batch> seen;
  for (int64_t i = 0; i < 4; ++i) seen.push_back(sequential->train_batch(i));
  // Random access (a resumed run), other worker count: the same batches.
  auto other = make_keypoints_task(tiny_config({"data.workers=0"}), "");
  EXPECT_TRUE(bitwise_equal(other->train_batch(3), seen[3]));
  EXPECT_TRUE(bitwise_equal(other->train_batch(1), seen[1]));
  EXPECT_TRUE(bitwise_equal(sequential->train_batch(2), seen[2]));  // going back restarts the loader
  EXPECT_FALSE(bitwise_equal(seen[0], seen[1]));
  auto reseeded = make_keypoints_task(tiny_config({"train.seed=7"}), "");
  EXPECT_FALSE(bitwise_equal(reseeded->train_batch(0), seen[0]));
  const Batch& b = seen[0];
  EXPECT_EQ(b.at("image").sizes(), (std::vector<int64_t>{4, 3, 64, 64}));
  EXPECT_EQ(b.at("xyz").sizes(), (std::vector<int64_t>{4, 21, 3}));
  // Validation: fixed, unaugmented, independent of train.seed, all 12 samples.
  const auto val = sequential->eval_batches("val");
  const auto val_reseeded = reseeded->eval_batches("val");
  ASSERT_EQ(val.size(), 2u);
  EXPECT_EQ(val[1].at("image").size(0), 4);
  for (size_t i = 0; i < val.size(); ++i) EXPECT_TRUE(bitwise_equal(val[i], val_reseeded[i]));
  const HandSample first = synthetic_hand(0, 64);
  EXPECT_FALSE(val[0].at("image")[0].equal(image_to_tensor(first.image)))
      << "the val set must not be the training set's first hand";
  EXPECT_THROW(sequential->eval_batches("test"), UserError);
  EXPECT_EQ(sequential->eval_batches("train").at(0).at("image").size(0), 8);
}

// The shared real-world frames: a contiguous split, val = the tail, decoded and resized.
TEST_F(KeypointsTaskTest, RealFramesSplitIntoContiguousBlocks) {
  const std::string manifest = std::string(ZOO_SOURCE_DIR) + "/../shared/data/hand_realworld_ge2019/annotations.json";
  if (!fs::exists(manifest)) GTEST_SKIP() << manifest << " not found";
  const std::string file = "data.train_file=\"" + manifest + "\"";
  auto task = make_keypoints_task(tiny_config({file, "data.val_from_index=400", "eval.train_samples=1000"}), "");
  int64_t val = 0, train = 0;
  for (const Batch& b : task->eval_batches("val")) val += b.at("image").size(0);
  for (const Batch& b : task->eval_batches("train")) train += b.at("image").size(0);
  EXPECT_EQ(val, 80);
  EXPECT_EQ(train, 400);
  const Batch b = task->train_batch(0);
  EXPECT_EQ(b.at("image").sizes(), (std::vector<int64_t>{4, 3, 64, 64}));
  EXPECT_LT(b.at("index").max().item<int64_t>(), 400);
  // Synthetic training, validation on the real tail.
  task = make_keypoints_task(
      tiny_config({"data.val_file=\"" + manifest + "\"", "data.val_from_index=400"}), "");
  val = 0;
  for (const Batch& v : task->eval_batches("val")) val += v.at("image").size(0);
  EXPECT_EQ(val, 80);
  EXPECT_NE(expect_user_error({file, "data.val_from_index=480"}).find("has 480 samples"), std::string::npos);
  // Generated hands mixed into the 400 training frames: sampled, but not in the "train" split.
  task = make_keypoints_task(tiny_config({file, "data.val_from_index=400", "data.synthetic_mix_size=400",
                                          "eval.train_samples=1000", "train.batch_size=64"}),
                             "");
  const Batch mixed = task->train_batch(0);
  EXPECT_GT(mixed.at("index").max().item<int64_t>(), 399);
  EXPECT_LT(mixed.at("index").min().item<int64_t>(), 400);
  train = 0;
  for (const Batch& t : task->eval_batches("train")) train += t.at("image").size(0);
  EXPECT_EQ(train, 400);
  EXPECT_NE(expect_user_error({"data.synthetic_mix_size=10"}).find("needs data.train_file"), std::string::npos);
}

TEST_F(KeypointsTaskTest, RotationAugmentationKeepsThe3DLabelsExact) {
  HandLoaderOptions o;
  o.batch_size = 8;
  o.image_size = 64;
  o.num_workers = 0;
  o.augment_options.rotation_deg = 60;
  HandLoader loader(synthetic_source(100, 3, 64), o);
  Batch b = loader.batch(0);
  const auto project = [](const Batch& x) {
    const auto mm = xyz_to_mm(x.at("xyz").to(torch::kDouble), x.at("root_mm").to(torch::kDouble),
                              x.at("scale_mm").to(torch::kDouble));
    const auto q = mm.matmul(x.at("K").to(torch::kDouble).transpose(1, 2));
    return (q.narrow(-1, 0, 2) / q.narrow(-1, 2, 1)).to(torch::kFloat32);
  };
  const auto uv_px = uv_to_pixels(b.at("uv"), 64, 64);
  ASSERT_GT(b.at("K").select(1, 1).select(1, 0).abs().max().item<double>(), 1.0) << "no rotation happened";
  EXPECT_LT((project(b) - uv_px).abs().max().item<double>(), 2e-2);
  const Batch before = b;
  rotate_to_upright_camera(b);
  EXPECT_LT(b.at("K").select(1, 1).select(1, 0).abs().max().item<double>(), 1e-3);
  EXPECT_GT(b.at("K").select(1, 1).select(1, 1).min().item<double>(), 0);
  EXPECT_LT((project(b) - uv_px).abs().max().item<double>(), 2e-2);
  // A rotation about the optical axis: lengths and depths unchanged, the pose turned in-plane.
  EXPECT_TRUE(torch::allclose(b.at("xyz").norm(2, -1), before.at("xyz").norm(2, -1), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(b.at("xyz").select(2, 2), before.at("xyz").select(2, 2), 1e-4, 1e-5));
  EXPECT_GT((b.at("xyz") - before.at("xyz")).abs().max().item<double>(), 0.1);
  EXPECT_TRUE(b.at("image").equal(before.at("image")));
}

TEST_F(KeypointsTaskTest, TrainingStepsReduceTheLossOnAFixedBatch) {
  auto task = make_keypoints_task(tiny_config({"train.batch_size=8"}), "");
  const Batch batch = task->train_batch(0);
  torch::optim::Adam opt(task->model().parameters(), torch::optim::AdamOptions(3e-3));
  task->model().train();
  double first = 0, last = 0;
  for (int step = 0; step < 40; ++step) {
    opt.zero_grad();
    const StepLosses out = task->training_step(batch);
    ASSERT_EQ(out.terms.size(), 1u);
    const torch::Tensor loss = out.terms.at("keypoints");
    EXPECT_GT(out.weight, 0);
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 0.5 * first) << "first " << first << " last " << last;
}

TEST_F(KeypointsTaskTest, EvaluatorOnHandMadePredictions) {
  auto task = make_keypoints_task(tiny_config(), dir_.string());
  const auto val = task->eval_batches("val");
  auto evaluate = [&](const std::function<torch::Tensor(const Batch&)>& pred) {
    auto ev = task->make_evaluator("val");
    ev->reset();
    for (const Batch& b : val) ev->process(b, {{"keypoints", pred(b)}});
    return ev->summarize();
  };
  // Exact: zero 3D error; the 2D error only from float32 rounding.
  Metrics m = evaluate([](const Batch& b) { return b.at("xyz"); });
  EXPECT_NEAR(m.at("mpjpe_mm"), 0.0, 1e-3);
  EXPECT_NEAR(m.at("pa_mpjpe_mm"), 0.0, 1e-3);
  EXPECT_NEAR(m.at("pck_auc"), 1.0, 1e-6);
  EXPECT_LT(m.at("epe_2d_px"), 0.02);
  // Every joint 10 mm off along x: MPJPE 10 mm, undone by Procrustes, AUC of a step at 10 mm.
  m = evaluate([](const Batch& b) {
    auto off = torch::zeros_like(b.at("xyz"));
    off.select(2, 0).fill_(1);
    return b.at("xyz") + off * (10.0 / b.at("scale_mm")).view({-1, 1, 1});
  });
  EXPECT_NEAR(m.at("mpjpe_mm"), 10.0, 1e-3);
  EXPECT_NEAR(m.at("pa_mpjpe_mm"), 0.0, 1e-3);
  double area = 0, prev_t = 0, prev_p = 0;
  for (int i = 0; i < 100; ++i) {
    const double t = i == 99 ? 50.0 : i * 50.0 / 99, p = t >= 10 ? 1 : 0;
    if (i > 0) area += (t - prev_t) * (p + prev_p) / 2;
    prev_t = t, prev_p = p;
  }
  EXPECT_NEAR(m.at("pck_auc"), area / 50, 1e-9);
  EXPECT_GT(m.at("epe_2d_px"), 0.5);
  // The mean-pose baseline is the same whatever the predictions, and worse than exact.
  EXPECT_GT(m.at("mean_pose_mpjpe_mm"), 5.0);
  EXPECT_LT(m.at("mean_pose_pck_auc"), 1.0);
  EXPECT_EQ(task->primary_metric().name, "mpjpe_mm");
  EXPECT_FALSE(task->primary_metric().higher_is_better);
  EXPECT_TRUE(fs::exists(path("plots/pck_val.png")));
  const cv::Mat grid = cv::imread(path("plots/examples_val.png"));
  ASSERT_FALSE(grid.empty());
  EXPECT_EQ(grid.cols, 4 * 192);
  EXPECT_EQ(grid.rows, 3 * 192);  // 12 val images, 4 per row
  EXPECT_TRUE(fs::exists(path("pose_stats.json")));
}

TEST_F(KeypointsTaskTest, TwoDimensionalVariant) {
  auto task = make_keypoints_task(tiny_config({"model.coord_dims=2", "eval.pictures=false"}), dir_.string());
  EXPECT_EQ(task->primary_metric().name, "epe_2d_px");
  const Batch b = task->train_batch(0);
  task->model().train();
  EXPECT_TRUE(std::isfinite(task->training_step(b).terms.at("keypoints").item<double>()));
  auto ev = task->make_evaluator("val");
  ev->reset();
  for (const Batch& v : task->eval_batches("val")) ev->process(v, {{"keypoints", v.at("uv")}});
  EXPECT_NEAR(ev->summarize().at("epe_2d_px"), 0.0, 1e-3);
  EXPECT_FALSE(fs::exists(path("plots")));
}

// Trainer runs: straight vs stopped and resumed are bitwise equal; init.checkpoint copies weights.
TEST_F(KeypointsTaskTest, ResumeIsBitwiseExactAndInitCheckpointLoads) {
  const Config cfg = tiny_config({"train.max_steps=4", "train.eval_every_steps=0", "train.plots=false",
                                  "train.log_every_steps=100", "schedule.warmup_steps=1"});
  const auto run = [&](const std::string& dir, bool resume, int64_t stop_after, const Config& c) {
    auto task = make_keypoints_task(c, dir);
    Trainer trainer(*task, train_options(c), optim_options(c), schedule_options(c), dir);
    trainer.fit(resume, stop_after);
    std::vector<torch::Tensor> state;
    for (const auto& p : task->model().parameters()) state.push_back(p.detach().clone());
    for (const auto& p : task->model().buffers()) state.push_back(p.detach().clone());
    return state;
  };
  const auto straight = run(path("straight"), false, -1, cfg);
  run(path("resumed"), false, 2, cfg);
  const auto resumed = run(path("resumed"), true, -1, cfg);
  ASSERT_EQ(straight.size(), resumed.size());
  for (size_t i = 0; i < straight.size(); ++i) EXPECT_TRUE(straight[i].equal(resumed[i])) << "tensor " << i;

  Config init = tiny_config({"init.checkpoint=\"" + path("straight/checkpoints/last.pt") + "\""});
  auto task = make_keypoints_task(init, path("fine_tune"));
  const auto params = task->model().parameters();
  EXPECT_TRUE(params.front().equal(straight.front()));
  // A run with its own checkpoints does not need (or read) the initial one.
  fs::create_directories(path("straight2/checkpoints"));
  fs::copy_file(path("straight/checkpoints/last.pt"), path("straight2/checkpoints/last.pt"));
  EXPECT_NO_THROW(make_keypoints_task(tiny_config({"init.checkpoint=\"/nonexistent/best.pt\""}), path("straight2")));
}

TEST_F(KeypointsTaskTest, ExportParityInCppAndPython) {
  auto task = make_keypoints_task(tiny_config(), dir_.string());
  // A few training steps so that the BatchNorm running statistics are not the initial ones.
  task->model().train();
  {
    torch::NoGradGuard no_grad;
    for (int64_t i = 0; i < 3; ++i) task->predict(task->train_batch(i));
  }
  task->model().eval();
  const std::string out = path("export");
  task->export_model(out);
  for (const char* f : {"model.pt", "model.onnx", "weights.pt", "meta.json"}) EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  const Json meta = read_json_file(out + "/meta.json");
  EXPECT_EQ(meta.at("input").at("image_size"), 64);
  EXPECT_EQ(meta.at("output").at("shape"), Json({-1, 21, 3}));
  EXPECT_NEAR(meta.at("input").at("std")[2].get<double>(), 0.225, 1e-6);

  const Batch b = task->eval_batches("val").at(0);
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = task->predict(b).at("keypoints");
  }
  torch::jit::Module module = torch::jit::load(out + "/model.pt");
  module.eval();
  const torch::Tensor scripted = module.forward({b.at("image")}).toTensor();
  ASSERT_EQ(scripted.sizes(), expected.sizes());
  EXPECT_LT((scripted - expected).abs().max().item<double>(), 1e-4);

  const auto weights = read_torch_tensor_dict(out + "/weights.pt");
  for (const char* key : {"conv1.weight", "bn1.running_var", "bn1.num_batches_tracked", "layer2.0.downsample.0.weight",
                          "layer4.1.bn2.bias", "fc.weight", "fc.bias"})
    EXPECT_TRUE(weights.count(key)) << key;
  EXPECT_EQ(weights.size(), task->model().named_parameters().size() + task->model().named_buffers().size());

  if (!python_has_torch()) GTEST_SKIP() << kPython << " with torch not found: Python parity not checked";
  write_torch_tensor_dict(path("input.pt"), {{"image", b.at("image")}});
  std::ofstream(path("check.py")) << R"(import sys, torch
d = sys.argv[1]
m = torch.jit.load(d + "/export/model.pt")
m.eval()
x = torch.load(d + "/input.pt")["image"]
with torch.no_grad():
    y = m(x)
w = torch.load(d + "/export/weights.pt")
sd = {k.replace(".", "_"): v for k, v in w.items()}
for k, v in m.state_dict().items():
    assert torch.equal(sd[k], v), k
torch.save({"out": y}, d + "/output.pt")
)";
  ASSERT_EQ(std::system((kPython + " " + path("check.py") + " " + dir_.string() + " >" + path("py.log") + " 2>&1").c_str()), 0)
      << std::ifstream(path("py.log")).rdbuf();
  const torch::Tensor python = read_torch_tensor_dict(path("output.pt")).at("out");
  EXPECT_LT((python - expected).abs().max().item<double>(), 1e-4);
}

// Full width: weights.pt loads strictly into torchvision's resnet18(num_classes=63) and gives the
// TorchScript module's output.
TEST_F(KeypointsTaskTest, WeightsLoadIntoTorchvisionResnet18) {
  if (!python_has_torch()) GTEST_SKIP() << kPython << " with torch/torchvision not found";
  auto task = make_keypoints_task(tiny_config({"model.base_width=64"}), dir_.string());
  task->model().eval();
  task->export_model(path("export"));
  const Json meta = read_json_file(path("export/meta.json"));
  EXPECT_NE(meta.at("architecture").at("torchvision").get<std::string>().find("resnet18(num_classes=63)"),
            std::string::npos);
  std::ofstream(path("tv.py")) << R"(import sys, torch, torchvision
d = sys.argv[1]
tv = torchvision.models.resnet18(num_classes=63)
tv.load_state_dict(torch.load(d + "/export/weights.pt"), strict=True)
tv.eval()
m = torch.jit.load(d + "/export/model.pt")
x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    a = tv(x).view(-1, 21, 3)
    b = m(x)
err = (a - b).abs().max().item()
print("max abs diff", err)
assert err < 1e-4, err
)";
  EXPECT_EQ(std::system((kPython + " " + path("tv.py") + " " + dir_.string() + " >" + path("py.log") + " 2>&1").c_str()), 0)
      << std::ifstream(path("py.log")).rdbuf();
}

}  // namespace
}  // namespace zoo
