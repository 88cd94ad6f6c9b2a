// The "rpn" task: learning on a fixed batch of generated shapes, the recall metrics and their
// baselines, the export (post-processing inside TorchScript) against predict, config errors and
// the predict picture (now tests/infer).
#include "train/tasks/rpn/task.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <unistd.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "data/detection_synth.h"
#include "tests/scratch_dir.h"
#include "train/trainer.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

// Each test's run in a folder of its own, removed after it.
class RpnTaskTest : public testing::ScratchDirTest {
 protected:
  const fs::path dir_ = scratch_.path();
};

// Tiny: width 8 backbone, 128 px shapes, small anchors and top-n.
Config tiny_config(const std::vector<std::string>& sets = {}) {
  Config cfg(rpn_task_defaults());
  cfg.merge(Json{{"model", {{"base_width", 8}, {"anchor_sizes", {16, 32, 64}}, {"pre_nms_top_n_test", 300},
                            {"post_nms_top_n_test", 100}, {"pre_nms_top_n_train", 300}, {"post_nms_top_n_train", 100}}},
                 {"data", {{"synthetic_train_size", 8}, {"synthetic_val_size", 4}, {"synthetic_image_size", 128},
                           {"min_size", 128}, {"max_size", 128}, {"hflip", 0.0}}},
                 {"eval", {{"batch_size", 2}}},
                 {"train", {{"batch_size", 4}, {"threads", 1}}}},
            "test");
  for (const auto& s : sets) cfg.set(s);
  return cfg;
}

TEST_F(RpnTaskTest, TrainingRaisesRecallOnAFewImages) {
  auto task = make_rpn_task(tiny_config({"data.synthetic_val_size=4", "data.synthetic_train_size=4"}), "");
  // Validation images are other images than these; evaluate on the training ones instead.
  const auto recall = [&] {
    auto evaluator = task->make_evaluator("train");
    evaluator->reset();
    task->model().eval();
    torch::NoGradGuard no_grad;
    for (const Batch& b : task->eval_batches("train")) evaluator->process(b, task->predict(b));
    return evaluator->summarize();
  };
  const Metrics before = recall();
  torch::optim::SGD opt(task->model().parameters(), torch::optim::SGDOptions(0.02).momentum(0.9));
  for (int step = 0; step < 100; ++step) {
    task->model().train();
    opt.zero_grad();
    const StepLosses l = task->training_step(task->train_batch(0));
    ASSERT_EQ(l.terms.size(), 2u);
    EXPECT_GT(l.weight, 0);
    (l.terms.at("objectness") + l.terms.at("box_reg")).backward();
    opt.step();
  }
  const Metrics after = recall();
  EXPECT_GT(after.at("ar100"), 2 * before.at("ar100") + 0.05) << before.at("ar100") << " -> " << after.at("ar100");
  EXPECT_GT(after.at("recall100_iou50"), after.at("random_recall100_iou50"));
  // The untrained baseline is the initial network: it scores what the model scored before.
  EXPECT_NEAR(after.at("untrained_ar100"), before.at("ar100"), 1e-9);
  EXPECT_EQ(after.at("images"), 4);
}

TEST_F(RpnTaskTest, ExportGivesThePredictedProposals) {
  auto task = make_rpn_task(tiny_config(), dir_.string());
  task->model().train();
  {
    torch::NoGradGuard no_grad;  // BatchNorm statistics off their initial values
    for (int64_t i = 0; i < 2; ++i) task->predict(task->train_batch(i));
  }
  task->model().eval();
  task->export_model((dir_ / "export").string());
  const Batch b = task->eval_batches("val").at(0);
  Batch expected;
  {
    torch::NoGradGuard no_grad;
    expected = task->predict(b);
  }
  torch::jit::Module module = torch::jit::load((dir_ / "export" / "model.pt").string());
  const auto out = module.forward({b.at("images"), b.at("image_sizes")}).toTuple();
  const auto boxes = out->elements()[0].toTensor(), scores = out->elements()[1].toTensor();
  const auto counts = out->elements()[2].toTensor();
  EXPECT_TRUE(torch::equal(counts, expected.at("num_proposals")));
  for (int64_t i = 0; i < counts.size(0); ++i) {
    const int64_t n = counts[i].item<int64_t>();
    ASSERT_GT(n, 0);
    EXPECT_LT((boxes[i].narrow(0, 0, n) - expected.at("proposals")[i].narrow(0, 0, n)).abs().max().item<double>(), 1e-3);
    EXPECT_LT((scores[i].narrow(0, 0, n) - expected.at("scores")[i].narrow(0, 0, n)).abs().max().item<double>(), 1e-5);
  }
}

TEST_F(RpnTaskTest, ConfigErrorsNameTheKey) {
  const auto error = [](const std::vector<std::string>& sets) -> std::string {
    try {
      make_rpn_task(tiny_config(sets), "");
    } catch (const UserError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(error({"model.fg_iou_thresh=0.2"}).find("model.fg_iou_thresh"), std::string::npos);
  EXPECT_NE(error({"model.anchor_sizes=[]"}).find("model.anchor_sizes"), std::string::npos);
  EXPECT_NE(error({"data.bad_boxes=ignore"}).find("data.bad_boxes"), std::string::npos);
  EXPECT_NE(error({"data.train_file=\"/no/such.csv\""}).find("data.train_file"), std::string::npos);
}

}  // namespace
}  // namespace zoo
