// The sts task: both architectures and heads train, overfit a few pairs, and export a
// TorchScript module that scores exactly like the C++ model.
#include <gtest/gtest.h>

#include <torch/script.h>

#include <filesystem>
#include <map>
#include <set>

#include "train/config.h"
#include "tests/scratch_dir.h"
#include "train/tasks/sts/task.h"
#include "train/trainer.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

Config tiny_config(const std::string& architecture, const std::string& head) {
  Config c(sts_task_defaults());
  for (const char* s : {"model.hidden_size=32", "model.num_layers=1", "model.num_heads=2",
                        "model.intermediate_size=64", "model.hidden_dropout=0", "model.attention_dropout=0",
                        "model.classifier_dropout=0", "data.synthetic_pairs=64", "data.max_seq_len=32",
                        "data.vocab_size=200", "train.batch_size=8", "eval.batch_size=16"})
    c.set(s);
  c.set("model.architecture=" + architecture);
  c.set("model.head=" + head);
  return c;
}

class StsTaskTest : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(StsTaskTest, OverfitsAFixedBatch) {
  const testing::ScratchDir scratch("zoo_sts");
  const auto [architecture, head] = GetParam();
  auto task = make_sts_task(tiny_config(architecture, head), scratch.path_to("fit_" + architecture + head));
  const Batch batch = task->train_batch(0);
  OptimOptions o;
  o.lr = 3e-3;
  auto optimizer = make_optimizer(o, task->model());
  task->model().train();
  const double first = task->training_step(batch).terms.begin()->second.item<double>();
  double last = first;
  for (int i = 0; i < 80; ++i) {
    optimizer->zero_grad();
    auto loss = task->training_step(batch).terms.begin()->second;
    loss.backward();
    optimizer->step();
    last = loss.item<double>();
  }
  EXPECT_LT(last, 0.2 * first) << architecture << "/" << head << ": " << first << " -> " << last;
}

TEST_P(StsTaskTest, TorchScriptExportScoresLikeTheModel) {
  const testing::ScratchDir scratch("zoo_sts");
  const auto [architecture, head] = GetParam();
  const std::string dir = scratch.path_to("export_" + architecture + head);
  auto task = make_sts_task(tiny_config(architecture, head), dir);
  task->model().eval();
  task->export_model(dir + "/export");
  const Batch batch = task->eval_batches("val").front();
  torch::NoGradGuard no_grad;
  const auto expected = task->predict(batch).at("score");
  EXPECT_TRUE((expected >= 0).all().item<bool>() && (expected <= 5).all().item<bool>());
  auto module = torch::jit::load(dir + "/export/model.pt");
  std::vector<torch::jit::IValue> inputs;
  if (architecture == "cross")
    inputs = {batch.at("input_ids"), batch.at("attention_mask"), batch.at("token_type_ids"), batch.at("match")};
  else
    inputs = {batch.at("ids_a"), batch.at("mask_a"), batch.at("ids_b"), batch.at("mask_b")};
  const auto scripted = module.forward(inputs).toTensor();
  EXPECT_TRUE(torch::allclose(scripted, expected, 1e-5, 1e-5)) << (scripted - expected).abs().max();
  for (const char* f : {"weights.pt", "vocab.txt", "meta.json"}) EXPECT_TRUE(fs::exists(dir + "/export/" + f)) << f;
}

INSTANTIATE_TEST_SUITE_P(ArchitecturesAndHeads, StsTaskTest,
                         ::testing::Values(std::make_pair("cross", "distribution"),
                                           std::make_pair("cross", "regression"),
                                           std::make_pair("bi", "distribution"),
                                           std::make_pair("bi", "regression")),
                         [](const auto& info) { return info.param.first + "_" + info.param.second; });

TEST(StsTask, ExactMatchMarksTokensSharedByBothSentences) {
  const testing::ScratchDir scratch("zoo_sts");
  auto task = make_sts_task(tiny_config("cross", "distribution"), scratch.path_to("match"));
  const Batch b = task->train_batch(0);
  const auto ids = b.at("input_ids")[0], types = b.at("token_type_ids")[0], match = b.at("match")[0];
  const auto mask = b.at("attention_mask")[0].to(torch::kBool);
  for (int64_t i = 1; i < ids.size(0); ++i) {
    if (!mask[i].item<bool>()) continue;
    const auto other = ids.masked_select(mask & (types != types[i]));
    const bool shared = (other == ids[i]).any().item<bool>() && ids[i].item<int64_t>() > 4;
    EXPECT_EQ(match[i].item<int64_t>(), shared ? 1 : 0) << "position " << i;
  }
}

TEST(StsTask, IdfBucketsGiveRareSharedTokensAHigherMatchClass) {
  const testing::ScratchDir scratch("zoo_sts");
  Config c = tiny_config("cross", "regression");
  c.set("model.match_idf_buckets=4");
  auto task = make_sts_task(c, scratch.path_to("idf"));
  // Over many batches: every shared token has a class in 1..4, unshared ones 0, and the class of
  // a token id never changes (it is a property of the token, not of the pair).
  std::map<int64_t, int64_t> class_of;
  std::set<int64_t> classes;
  for (int64_t index = 0; index < 6; ++index) {
    const Batch b = task->train_batch(index);
    const auto ids = b.at("input_ids"), match = b.at("match");
    for (int64_t i = 0; i < ids.numel(); ++i) {
      const int64_t id = ids.view(-1)[i].item<int64_t>(), m = match.view(-1)[i].item<int64_t>();
      ASSERT_GE(m, 0);
      ASSERT_LE(m, 4);
      if (m == 0) continue;
      const auto [it, inserted] = class_of.emplace(id, m);
      EXPECT_EQ(it->second, m) << "token " << id;
      classes.insert(m);
    }
  }
  EXPECT_GE(classes.size(), 2u) << "frequent and rare shared tokens fall into different buckets";
  // The export carries the table a Python caller needs to build `match`.
  const std::string dir = scratch.path_to("idf_export");
  auto exported = make_sts_task(c, dir);
  exported->export_model(dir + "/export");
  const Json meta = read_json_file(dir + "/export/meta.json");
  EXPECT_EQ(meta.at("match_idf_buckets").get<int64_t>(), 4);
  for (const auto& [id, m] : class_of) EXPECT_EQ(meta.at("match_class").at(static_cast<size_t>(id)).get<int64_t>(), m);
}

TEST(StsTask, SwapPairsExchangesTheSentencesOfAboutHalfThePairs) {
  const testing::ScratchDir scratch("zoo_sts");
  Config c = tiny_config("bi", "regression");
  auto plain = make_sts_task(c, scratch.path_to("noswap"));
  c.set("data.swap_pairs=true");
  auto swapping = make_sts_task(c, scratch.path_to("swap"));
  int swapped = 0, total = 0;
  for (int64_t index = 0; index < 4; ++index) {
    const Batch a = plain->train_batch(index), b = swapping->train_batch(index);
    EXPECT_TRUE(torch::equal(a.at("score"), b.at("score")));
    for (int64_t i = 0; i < a.at("score").size(0); ++i, ++total) {
      const auto row = [](const Batch& x, const char* key, int64_t r) {
        const auto ids = x.at(key)[r];
        return ids.masked_select(ids != 0);
      };
      if (torch::equal(row(a, "ids_a", i), row(b, "ids_a", i))) continue;
      EXPECT_TRUE(torch::equal(row(a, "ids_a", i), row(b, "ids_b", i)));
      EXPECT_TRUE(torch::equal(row(a, "ids_b", i), row(b, "ids_a", i)));
      ++swapped;
    }
  }
  EXPECT_GT(swapped, total / 4);
  EXPECT_LT(swapped, 3 * total / 4);
  // Deterministic: the same index gives the same batch.
  EXPECT_TRUE(torch::equal(swapping->train_batch(2).at("ids_a"), swapping->train_batch(2).at("ids_a")));
}

TEST(StsTask, RejectsTrainFileWithoutValFile) {
  const testing::ScratchDir scratch("zoo_sts");
  Config c = tiny_config("cross", "distribution");
  c.set("data.train_file=\"/some/train.csv\"");
  EXPECT_THROW(make_sts_task(c, scratch.path_to("nofile")), UserError);
}

}  // namespace
}  // namespace zoo
