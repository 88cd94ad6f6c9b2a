// zoo::infer against the training code: for each task a tiny model is built in process, exported,
// and the predictor's outputs on fixed inputs are compared with the in-process Task::predict
// (1e-5 relative); the image preprocessing with what the training collate makes; errors; threads.
#include "infer/predictors.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <thread>

#include "data/detection_batch.h"
#include "data/detection_synth.h"
#include "data/hand_augment.h"
#include "data/hand_batch.h"
#include "data/hand_synth.h"
#include "tests/scratch_dir.h"
#include "train/config.h"
#include "train/tasks/heatmap/task.h"
#include "train/tasks/keypoints/task.h"
#include "train/tasks/mlm/task.h"
#include "train/tasks/rpn/task.h"
#include "train/tasks/sts/task.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

// Each test's run and export in a folder of its own, removed after it.
class Predictors : public testing::ScratchDirTest {
 protected:
  void SetUp() override { torch::manual_seed(0); }
  std::string path(const std::string& name) const { return temp_path(name); }

  // Builds the task with its run directory in dir_, perturbs its weights (a fresh model's
  // outputs are too uniform to tell a wrong preprocessing from a right one) and exports it.
  std::unique_ptr<Task> exported(std::unique_ptr<Task> task) {
    torch::NoGradGuard no_grad;
    for (auto& p : task->model().parameters()) p.add_(torch::randn_like(p) * 0.05);
    task->model().eval();
    task->export_model(path("export"));
    return task;
  }
  const fs::path dir_ = scratch_.path();
};

Config bert_config(Json defaults, std::vector<std::string> sets) {
  Config c(std::move(defaults));
  for (const char* s : {"model.hidden_size=32", "model.num_layers=1", "model.num_heads=2", "model.intermediate_size=64",
                        "model.hidden_dropout=0", "model.attention_dropout=0", "data.max_seq_len=32",
                        "data.vocab_size=200"})
    c.set(s);
  for (const auto& s : sets) c.set(s);
  return c;
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b, double tolerance = 1e-5) {
  ASSERT_EQ(a.sizes(), b.sizes());
  const auto x = a.to(torch::kDouble), y = b.to(torch::kDouble);
  EXPECT_LE((x - y).abs().max().item<double>(), tolerance * (1 + y.abs().max().item<double>()));
}

TEST_F(Predictors, MaskedLMMatchesTheInProcessModel) {
  auto task = exported(make_mlm_task(bert_config(mlm_task_defaults(), {"data.embedded_documents=200"}), dir_.string()));
  const infer::MaskedLM mlm(path("export"));
  const std::string text = "anna lives in [MASK] , a city in [MASK] .";
  const auto filled = mlm.fill(text, 4);
  ASSERT_EQ(filled.size(), 2u);

  const std::vector<int64_t> ids = mlm.encode(text);
  const auto mask_id = mlm.export_dir().get<int64_t>("special_ids/mask");
  std::vector<int64_t> labels(ids.size(), -100);  // the task's logits are at the labelled positions
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == mask_id) labels[i] = ids[i];
  const auto row = [](const std::vector<int64_t>& v) { return torch::tensor(v).unsqueeze(0); };
  torch::NoGradGuard no_grad;
  const auto logits = task->predict({{"input_ids", row(ids)},
                                     {"attention_mask", torch::ones({1, static_cast<int64_t>(ids.size())}, torch::kInt64)},
                                     {"token_type_ids", torch::zeros({1, static_cast<int64_t>(ids.size())}, torch::kInt64)},
                                     {"labels", row(labels)}})
                          .at("logits");
  ASSERT_EQ(logits.size(0), 2);
  const auto [probs, best] = logits.softmax(-1).topk(4);
  for (int64_t m = 0; m < 2; ++m)
    for (int64_t k = 0; k < 4; ++k) {
      EXPECT_NEAR(filled[static_cast<size_t>(m)][static_cast<size_t>(k)].probability, probs[m][k].item<double>(), 1e-5);
    }
  // A batch gives what single calls give.
  const auto batch = mlm.fill({text, "the [MASK] ."}, 4);
  EXPECT_EQ(batch[0][1][0].token, filled[1][0].token);
  EXPECT_NEAR(batch[0][1][0].probability, filled[1][0].probability, 1e-5);
  EXPECT_THROW(mlm.fill("no mask here"), std::runtime_error);
}

class SentenceSimilarityTest : public Predictors, public ::testing::WithParamInterface<const char*> {};

TEST_P(SentenceSimilarityTest, ScoresMatchTheInProcessModel) {
  const std::string architecture = GetParam();
  auto task = exported(make_sts_task(
      bert_config(sts_task_defaults(), {"model.architecture=\"" + architecture + "\"", "data.synthetic_pairs=64",
                                        "model.classifier_dropout=0"}),
      dir_.string()));
  const infer::SentenceSimilarity sts(path("export"));
  EXPECT_EQ(sts.is_bi_encoder(), architecture == "bi");
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"a man is playing a guitar .", "a man plays the guitar ."},
      {"a woman is slicing an onion .", "kids are playing football in the park on a sunny day ."},
      {"the cat sleeps .", "the cat sleeps ."}};
  const std::vector<double> scores = sts.score(pairs);
  auto batch = sts.encode(pairs);
  torch::NoGradGuard no_grad;
  const torch::Tensor expected = task->predict(batch).at("score");
  expect_close(torch::tensor(scores), expected);
  EXPECT_NEAR(sts.score(pairs[1].first, pairs[1].second), scores[1], 1e-5);

  // 70 pairs of mixed lengths (two chunks, run shortest first) come back in their own order:
  // each as scored alone. 1e-5: a pair padded to another length sums its products in another order.
  const std::vector<std::string> words = {"a", "man", "is", "playing", "the", "guitar", "cat", "sleeps", "."};
  std::vector<std::pair<std::string, std::string>> many;
  for (size_t i = 0; i < 70; ++i) {
    std::string a, b;
    for (size_t w = 0; w < 1 + (i * 7) % 13; ++w) a += words[(i + w) % words.size()] + " ";
    for (size_t w = 0; w < 1 + (i * 5) % 11; ++w) b += words[(2 * i + w) % words.size()] + " ";
    many.emplace_back(a, b);
  }
  const std::vector<double> many_scores = sts.score(many);
  ASSERT_EQ(many_scores.size(), many.size());
  for (size_t i = 0; i < many.size(); i += 3) EXPECT_NEAR(many_scores[i], sts.score(many[i].first, many[i].second), 1e-5) << i;

  if (architecture == "bi") {
    const torch::Tensor e = sts.embed({pairs[0].first, pairs[0].second});
    EXPECT_EQ(e.size(0), 2);
    EXPECT_EQ(e.size(1), 32);
    std::vector<std::string> sentences;
    for (const auto& [a, b] : many) sentences.push_back(a);
    const torch::Tensor all = sts.embed(sentences);
    ASSERT_EQ(all.size(0), 70);
    for (size_t i = 0; i < sentences.size(); i += 3)
      expect_close(all[static_cast<int64_t>(i)], sts.embed({sentences[i]})[0]);
  } else {
    EXPECT_THROW(sts.embed({"a"}), std::runtime_error);
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, SentenceSimilarityTest, ::testing::Values("cross", "bi"));

TEST_F(Predictors, ConcurrentCallsGiveTheAnswerOfOneCall) {
  exported(make_sts_task(bert_config(sts_task_defaults(), {"data.synthetic_pairs=64"}), dir_.string()));
  const infer::SentenceSimilarity sts(path("export"));
  const double expected = sts.score("a man is playing a guitar .", "a man plays the guitar .");
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i)
        if (std::abs(sts.score("a man is playing a guitar .", "a man plays the guitar .") - expected) > 1e-6)
          ++mismatches[static_cast<size_t>(t)];
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

Config hand_config(Json defaults, Json model) {
  Config cfg(std::move(defaults));
  cfg.merge(Json{{"model", model},
                 {"data", {{"image_size", 64}, {"synthetic_train_size", 32}, {"synthetic_val_size", 8}, {"workers", 1}}},
                 {"eval", {{"batch_size", 8}, {"mean_pose_samples", 16}, {"train_samples", 8}}},
                 {"train", {{"batch_size", 4}, {"threads", 1}}}},
            "test");
  return cfg;
}

// Each vision predictor twice: optimised for inference (the default: BatchNorm folded, oneDNN
// convolutions) and the exported graph as it is. Both match the in-process model to float rounding.
TEST_F(Predictors, HandPosePreprocessesAsTrainingAndMatchesTheInProcessModel) {
  auto task = exported(make_keypoints_task(hand_config(keypoints_task_defaults(), {{"base_width", 8}}), dir_.string()));
  for (bool optimize : {true, false}) {
    SCOPED_TRACE(optimize ? "optimized" : "as exported");
    const infer::HandPose pose(path("export"), torch::kCPU, optimize);
    ASSERT_TRUE(pose.is_3d());
    HandSample sample = synthetic_hand(42, 100);
    const cv::Mat image = sample.image;  // 100 x 100: resized to 64 as training resizes
    // The same image through the training collate and through the predictor: the same tensor.
    const torch::Tensor training = collate({resize_to(sample, 64)}).at("image")[0];
    EXPECT_TRUE(pose.preprocess(image).equal(training));

    const infer::HandJoints joints = pose.predict(image);
    torch::NoGradGuard no_grad;
    const torch::Tensor pred = task->predict({{"image", training.unsqueeze(0)}}).at("keypoints")[0].to(torch::kDouble);
    const torch::Tensor expected = (pred - pred[0]) * pose.typical_scale_mm();
    std::vector<double> got;
    for (const auto& p : joints.xyz_mm) got.insert(got.end(), {p.x, p.y, p.z});
    expect_close(torch::tensor(got).view({21, 3}), expected);
    ASSERT_EQ(joints.uv.size(), 21u);
    for (const auto& p : joints.uv) EXPECT_TRUE(std::isfinite(p.x) && std::isfinite(p.y));
    EXPECT_EQ(pose.predict(std::vector<cv::Mat>{image, image}).size(), 2u);
    EXPECT_THROW(pose.predict(cv::Mat()), std::invalid_argument);
  }
}

TEST_F(Predictors, HeatmapJointsAreThePixelsOfTheInputImage) {
  auto task = exported(make_heatmap_task(
      hand_config(heatmap_task_defaults(), {{"encoder_channels", {8, 16}}, {"decoder_channels", {16}}}), dir_.string()));
  const infer::HeatmapKeypoints heatmap(path("export"));
  EXPECT_FALSE(heatmap.is_3d());
  const HandSample sample = synthetic_hand(7, 128);  // twice the model's side
  const infer::HandJoints joints = heatmap.predict(sample.image);
  torch::NoGradGuard no_grad;
  const torch::Tensor coords =
      task->predict({{"image", heatmap.preprocess(sample.image).unsqueeze(0)}}).at("keypoints")[0];
  // Normalised coordinates -> pixels of the 128 x 128 image: ((x + 1) * W - 1) / 2.
  const torch::Tensor expected = ((coords.to(torch::kDouble) + 1) * 128 - 1) / 2;
  std::vector<double> got;
  for (const auto& p : joints.uv) got.insert(got.end(), {p.x, p.y});
  expect_close(torch::tensor(got).view({21, 2}), expected);
}

TEST_F(Predictors, RegionProposalsMatchTheInProcessModel) {
  Config cfg(rpn_task_defaults());
  cfg.merge(Json{{"model", {{"base_width", 8}, {"anchor_sizes", {16, 32, 64}}, {"pre_nms_top_n_test", 300},
                            {"post_nms_top_n_test", 100}}},
                 {"data", {{"synthetic_train_size", 4}, {"synthetic_val_size", 2}, {"synthetic_image_size", 128},
                           {"min_size", 128}, {"max_size", 256}, {"hflip", 0.0}}},
                 {"train", {{"batch_size", 2}, {"threads", 1}}}},
            "test");
  auto task = exported(make_rpn_task(cfg, dir_.string()));
  for (bool optimize : {true, false}) {
    SCOPED_TRACE(optimize ? "optimized" : "as exported");
    const infer::RegionProposals rpn(path("export"), torch::kCPU, optimize);
    const SyntheticDetection s = synthetic_detection(3, 0, {});
    cv::Mat image;
    cv::resize(s.image, image, cv::Size(192, 96));  // short side 96 -> 128: boxes come back scaled
    const std::vector<infer::Proposal> proposals = rpn.propose(image);
    ASSERT_FALSE(proposals.empty());

    DetectionSample sample;
    sample.width = image.cols, sample.height = image.rows;
    DetectionTransformOptions transform;
    transform.min_size = 128, transform.max_size = 256;
    const DetectionBatch b = make_detection_batch({image}, {sample}, transform);
    torch::NoGradGuard no_grad;
    const Batch out = task->predict(
        {{"images", b.images},
         {"image_sizes", torch::tensor({b.image_sizes[0][0], b.image_sizes[0][1]}, torch::kInt64).view({1, 2})},
         {"index", torch::zeros({1}, torch::kInt64)}});  // seeds the task's random-anchor baseline
    const int64_t n = out.at("num_proposals")[0].item<int64_t>();
    ASSERT_EQ(static_cast<int64_t>(proposals.size()), n);
    const torch::Tensor expected = resize_boxes(out.at("proposals")[0].narrow(0, 0, n), b.image_sizes[0], b.original_sizes[0]);
    std::vector<double> got, scores;
    for (const auto& p : proposals) got.insert(got.end(), p.box.begin(), p.box.end()), scores.push_back(p.score);
    expect_close(torch::tensor(got).view({n, 4}), expected);
    expect_close(torch::tensor(scores), out.at("scores")[0].narrow(0, 0, n));
    EXPECT_EQ(rpn.propose(image, 5).size(), std::min<size_t>(5, proposals.size()));
  }
}

TEST_F(Predictors, RefuseWhatTheyCannotReadNamingTheFile) {
  const auto error = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error([&] { infer::MaskedLM m(path("none")); }),
            path("none") + ": not an export directory (zoo export --run RUN writes RUN/export)");
  exported(make_sts_task(bert_config(sts_task_defaults(), {"data.synthetic_pairs=64"}), dir_.string()));
  const std::string meta = path("export/meta.json");
  EXPECT_EQ(error([&] { infer::HandPose h(path("export")); }), meta + ": an export of task sts, not of keypoints or heatmap");
  const auto rewrite = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json j = nlohmann::json::parse(std::ifstream(meta));
    change(j);
    std::ofstream(meta) << j.dump();
  };
  const nlohmann::json original = nlohmann::json::parse(std::ifstream(meta));
  rewrite([](nlohmann::json& j) { j["format_version"] = 99; });
  EXPECT_EQ(error([&] { infer::SentenceSimilarity s(path("export")); }),
            meta + ": format_version 99, but this zoo reads version 1; export the run again with this zoo");
  rewrite([](nlohmann::json& j) { j["format_version"] = 1, j["max_seq_len"] = "long"; });
  EXPECT_EQ(error([&] { infer::SentenceSimilarity s(path("export")); }), meta + ": max_seq_len: has the wrong type (string)");
  rewrite([](nlohmann::json& j) { j["max_seq_len"] = 32, j["match_class"] = {1, 2}; });
  EXPECT_NE(error([&] { infer::SentenceSimilarity s(path("export")); }).find(meta + ": match_class: must have one entry"),
            std::string::npos);
  // Every path in meta.json stays inside the export (issue 29: "../" read another export's
  // vocabulary, or /etc/passwd as one), links resolved.
  const std::string outside = path("outside.txt");
  std::ofstream(outside) << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  fs::create_symlink(outside, path("export/link.txt"));
  const std::vector<std::pair<std::string, std::string>> escapes = {
      {"../outside.txt", "vocab: must stay inside the export directory, got \"../outside.txt\""},
      {"/etc/passwd", "vocab: must be a file name inside the export directory, got \"/etc/passwd\""},
      {"link.txt", "vocab: \"link.txt\" resolves to " + fs::weakly_canonical(outside).string() +
                       ", outside the export directory"}};
  for (const auto& [vocab, expected] : escapes) {
    rewrite([&](nlohmann::json& j) { j = original, j["vocab"] = vocab; });
    EXPECT_EQ(error([&] { infer::SentenceSimilarity s(path("export")); }), meta + ": " + expected);
  }
  std::ofstream(meta) << "{";
  EXPECT_EQ(error([&] { infer::SentenceSimilarity s(path("export")); }).rfind(meta + ":1: invalid JSON", 0), 0u);
  fs::remove(meta);
  ASSERT_EQ(::mkfifo(meta.c_str(), 0600), 0);  // would block a plain open() forever
  EXPECT_EQ(error([&] { infer::SentenceSimilarity s(path("export")); }), meta + ": is a FIFO, not a regular file");
}

// Issue 29: an export whose meta.json, vocab.txt or model.pt disagree reached TorchScript's index
// error at the first forward, naming nothing. Now the predictor refuses at load, naming the file
// and key: an sts and an mlm export, each with a longer max_seq_len than its positions, a
// vocabulary longer than its embedding, and another task's model.pt.
TEST_F(Predictors, ExportsThatDoNotFitTheirModelAreRefusedAtLoad) {
  const auto error = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  exported(make_keypoints_task(hand_config(keypoints_task_defaults(), {{"base_width", 8}}), (dir_ / "kp").string()));
  fs::rename(path("export"), path("keypoints_export"));
  const std::vector<std::pair<std::string, std::function<void()>>> loads = {
      {"sts", [&] { infer::SentenceSimilarity s(path("export")); }}, {"mlm", [&] { infer::MaskedLM m(path("export")); }}};
  for (const auto& [task_name, load] : loads) {
    fs::remove_all(path("export"));
    if (task_name == "sts") exported(make_sts_task(bert_config(sts_task_defaults(), {"data.synthetic_pairs=64"}), dir_.string()));
    else exported(make_mlm_task(bert_config(mlm_task_defaults(), {"data.embedded_documents=60"}), dir_.string()));
    const std::string meta = path("export/meta.json"), vocab = path("export/vocab.txt");
    EXPECT_EQ(error(load), "(no error)") << task_name;
    const nlohmann::json original = nlohmann::json::parse(std::ifstream(meta));
    nlohmann::json longer = original;
    longer["max_seq_len"] = 100000;
    std::ofstream(meta) << longer.dump();
    EXPECT_EQ(error(load).rfind(meta + ": max_seq_len: 100000 is more than model.pt's ", 0), 0u) << error(load);
    std::ofstream(meta) << original.dump();
    const std::string words = [&] {
      std::ifstream in(vocab);
      return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    const auto rows = std::count(words.begin(), words.end(), '\n');
    {
      std::ofstream more(vocab, std::ios::app);
      for (int i = 0; i < 50; ++i) more << "extra" << i << "\n";
    }
    EXPECT_EQ(error(load), meta + ": vocab: " + std::to_string(rows + 50) + " tokens, but model.pt's word embeddings have " +
                               std::to_string(rows) + " rows (a vocab.txt of another model?)")
        << task_name;
    std::ofstream(vocab) << words;
    fs::copy_file(path("keypoints_export/model.pt"), path("export/model.pt"), fs::copy_options::overwrite_existing);
    EXPECT_EQ(error(load), path("export/model.pt") + ": holds no BERT embeddings, so it is not the " + task_name +
                               " model meta.json describes (a model.pt of another export?)");
  }
}

// Issue 29: score() promises the export's score_range, but an unbounded head left it (a 5 MB
// single word scored -0.32). A regression head without its sigmoid, its output bias moved far
// below and then far above the range: the in-process model says about -10 and +10, the
// predictor the range's ends.
TEST_F(Predictors, ScoresStayInTheScoreRange) {
  for (const double bias : {-10.0, 10.0}) {
    fs::remove_all(path("export"));
    auto task = make_sts_task(bert_config(sts_task_defaults(), {"model.head=\"regression\"", "model.bound_output=false",
                                                                "data.synthetic_pairs=64", "model.classifier_dropout=0"}),
                              dir_.string());
    {
      torch::NoGradGuard no_grad;
      for (auto& p : task->model().named_parameters())
        if (p.key() == "out.bias") p.value().fill_(bias);
    }
    task = exported(std::move(task));
    const infer::SentenceSimilarity sts(path("export"));
    const std::vector<std::pair<std::string, std::string>> pairs = {{"a man plays .", "a man plays ."},
                                                                    {"the cat sleeps .", "kids play football ."}};
    torch::NoGradGuard no_grad;
    const torch::Tensor raw = task->predict(sts.encode(pairs)).at("score");
    const std::vector<double> scores = sts.score(pairs);
    for (size_t i = 0; i < pairs.size(); ++i) {
      EXPECT_NEAR(raw[static_cast<int64_t>(i)].item<double>(), bias, 2.0) << "the model itself leaves the range";
      EXPECT_EQ(scores[i], bias < 0 ? 0.0 : 5.0);
    }
  }
}

}  // namespace
}  // namespace zoo
