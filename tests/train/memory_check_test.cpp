// The memory probe: it leaves training exactly as it was (batch-norm statistics, random stream),
// its per-sample figure grows with the input size, and an absurd batch size is refused by name.
#include "train/memory_check.h"

#include <gtest/gtest.h>

#include "train/tasks/keypoints/task.h"
#include "train/tasks/mlm/task.h"

namespace zoo {
namespace {

Config keypoints_config(int image_size) {
  Config cfg(keypoints_task_defaults());
  cfg.merge(Json{{"model", {{"base_width", 8}}},
                 {"data", {{"image_size", image_size}, {"synthetic_train_size", 16}, {"synthetic_val_size", 8},
                           {"workers", 0}}},
                 {"eval", {{"batch_size", 4}, {"mean_pose_samples", 8}, {"train_samples", 4}}},
                 {"train", {{"batch_size", 4}, {"threads", 1}}}},
            "test");
  return cfg;
}

TEST(MemoryCheck, ProbeLeavesBuffersAndRandomStreamAsTheyWere) {
  auto task = make_keypoints_task(keypoints_config(64), "");
  std::vector<torch::Tensor> before;
  for (const auto& b : task->model().buffers()) before.push_back(b.clone());
  ASSERT_FALSE(before.empty());  // the ResNet's batch-norm statistics
  torch::manual_seed(7);
  const torch::Tensor expected = torch::rand({4});
  torch::manual_seed(7);
  const MemoryEstimate e = estimate_step_memory(*task);
  EXPECT_TRUE(torch::rand({4}).equal(expected));
  const auto after = task->model().buffers();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(after[i].equal(before[i])) << i;
  EXPECT_EQ(e.probe_samples, 4);
  double params = 0;
  for (const auto& p : task->model().parameters()) params += static_cast<double>(p.nbytes());
  EXPECT_DOUBLE_EQ(e.parameter_bytes, 4 * params);
  // At least the input image itself (3 x 64 x 64 floats) per sample.
  EXPECT_GT(e.bytes_per_sample, 3 * 64 * 64 * 4.0);
}

TEST(MemoryCheck, ActivationsGrowWithTheImageArea) {
  const double small = estimate_step_memory(*make_keypoints_task(keypoints_config(64), "")).bytes_per_sample;
  const double large = estimate_step_memory(*make_keypoints_task(keypoints_config(128), "")).bytes_per_sample;
  // 4x the pixels: most activations scale with the area; the pooled head, the labels and
  // allocator rounding do not (measured 2.7 here).
  EXPECT_GT(large / small, 2.0);
  EXPECT_LT(large / small, 4.5);
}

Config tiny_mlm_config(int64_t eval_batch_size) {
  Config cfg(mlm_task_defaults());
  cfg.merge(Json{{"model", {{"hidden_size", 32}, {"num_layers", 1}, {"num_heads", 2}, {"intermediate_size", 64}}},
                 {"data", {{"max_seq_len", 32}, {"vocab_size", 200}, {"embedded_documents", 60}, {"val_max_sequences", 8}}},
                 {"eval", {{"batch_size", eval_batch_size}}}},
            "test");
  return cfg;
}

TEST(MemoryCheck, AnAbsurdBatchSizeIsRefusedByName) {
  auto task = make_mlm_task(tiny_mlm_config(8), "");
  check_memory(*task, 8, 8, 1, true);  // fits
  try {
    check_memory(*task, 1000000000, 8, 1, true);
    FAIL() << "a billion sequences fit";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("train.batch_size 1000000000 needs ~", 0), 0u) << what;
    EXPECT_NE(what.find("GB available"), std::string::npos) << what;
  }
}

// Issue 29, class 11: eval.batch_size had no check. A batch holds at most the split (8 sequences
// here), so eval.batch_size=1000000 costs what 8 cost; where even that does not fit in what is
// available, the refusal names eval.batch_size and the batch it measured.
TEST(MemoryCheck, EvalBatchSizeIsCheckedByName) {
  auto task = make_mlm_task(tiny_mlm_config(1000000), "");
  const MemoryEstimate e = estimate_step_memory(*task);
  EXPECT_EQ(e.eval_batch_samples, 8);
  EXPECT_EQ(e.probe_samples, 8);
  EXPECT_DOUBLE_EQ(e.eval_bytes(false), e.parameter_bytes / 4 + 8 * e.bytes_per_sample);
  check_memory(*task, 0, 1000000, 1, false);  // 8 sequences fit this machine
  const double available = e.eval_bytes(false) / 2;
  for (const bool training : {false, true}) {
    try {
      check_memory(*task, 0, 1000000, 1, training, available);
      FAIL() << "fits in half of what it needs";
    } catch (const UserError& err) {
      const std::string what = err.what();
      EXPECT_EQ(what.rfind("eval.batch_size 1000000 needs ~", 0), 0u) << what;
      EXPECT_NE(what.find("for one evaluation batch of 8 samples"), std::string::npos) << what;
      EXPECT_NE(what.find("a smaller eval.batch_size gives the same metrics"), std::string::npos) << what;
    }
  }
  // The probe itself never runs on more than 64 samples, however large the held-out batch: a
  // keypoints split of 80 images at eval.batch_size 1000000 is one batch of 80, probed on 64.
  Config cfg = keypoints_config(64);
  cfg.merge(Json{{"data", {{"synthetic_val_size", 80}}}, {"eval", {{"batch_size", 1000000}}}}, "test");
  const MemoryEstimate k = estimate_step_memory(*make_keypoints_task(cfg, ""));
  EXPECT_EQ(k.eval_batch_samples, 80);
  EXPECT_EQ(k.probe_samples, 64);
  EXPECT_EQ(eval_batch_size(cfg.values()), 1000000);
}

}  // namespace
}  // namespace zoo
