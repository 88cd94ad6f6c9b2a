// Published checkpoints through the command line: all-MiniLM-L6-v2 evaluated zero-shot on STS-B
// dev gives sentence-transformers' own Pearson and Spearman (computed in the same test), and a
// model fine-tuned from it is handed back as directories transformers and sentence-transformers
// load, computing what our TorchScript export computes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/apps/run_binary.h"
#include "tests/scratch_dir.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSource = ZOO_SOURCE_DIR;
const std::string kMiniLM = kSource + "/pretrained/all-MiniLM-L6-v2";
const std::string kPython = kSource + "/build-py/venv/bin/python";
const std::string kStsb = kSource + "/../shared/data/stsb/original";

// Each test's run in a folder of its own, removed after it (a run of a published checkpoint
// holds ~750 MB).
class PretrainedCli : public zoo::testing::ScratchDirTest {};

// The last evaluation record of a run.
Json last_eval(const std::string& run) {
  std::ifstream in(run + "/metrics.jsonl");
  Json last;
  for (std::string line; std::getline(in, line);) {
    const Json j = Json::parse(line);
    if (j.value("split", "") == "val") last = j;
  }
  return last;
}

std::string command_output(const std::string& cmd) {
  std::string out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  char buf[4096];
  while (pipe && std::fgets(buf, sizeof buf, pipe)) out += buf;
  if (pipe) ::pclose(pipe);
  return out;
}

#define REQUIRE_REFERENCES()                                                                                  \
  if (!fs::exists(kMiniLM + "/model.safetensors")) GTEST_SKIP() << "no " << kMiniLM << " (scripts/fetch_pretrained.sh)"; \
  if (!fs::exists(kPython)) GTEST_SKIP() << "no reference venv (scripts/setup_python_refs.sh)"

TEST_F(PretrainedCli, ZeroShotStsbDevMatchesSentenceTransformers) {
  REQUIRE_REFERENCES();
  if (!fs::exists(kStsb + "/sts-dev.csv")) GTEST_SKIP() << "no " << kStsb << " (the real STS-B data)";
  const std::string run = temp_path("zeroshot");
  const auto r = zoo::testing::run_binary("train_sts --config " + kSource + "/apps/configs/sts_stsb_minilm_bi.json" +
                                          " --set init.hf_checkpoint=" + kMiniLM + " --set data.train_file=" + kStsb +
                                          "/sts-dev.csv --set data.val_file=" + kStsb +
                                          "/sts-dev.csv --set train.max_steps=0 --out " + run);
  ASSERT_EQ(r.status, 0) << r.output;
  const Json ours = last_eval(run);
  const Json theirs = Json::parse(command_output(kPython + " " + kSource + "/tests/python/st_reference.py --model " +
                                                 kMiniLM + " --stsb " + kStsb + "/sts-dev.csv"));
  EXPECT_EQ(ours.at("pairs").get<double>(), theirs.at("n").get<double>());
  EXPECT_NEAR(ours.at("pearson").get<double>(), theirs.at("pearson").get<double>(), 1e-4);
  EXPECT_NEAR(ours.at("spearman").get<double>(), theirs.at("spearman").get<double>(), 1e-4);
  // The saved config records what the checkpoint decided, so that eval sees the same task.
  const Json saved = Json::parse(std::ifstream(run + "/config.json"));
  EXPECT_EQ(saved["model"]["pooling"], "mean");
  EXPECT_EQ(saved["model"]["normalize"], true);
  EXPECT_EQ(saved["data"]["max_seq_len"], 256);
  const auto e = zoo::testing::run_binary("zoo eval --run " + run);
  EXPECT_EQ(e.status, 0) << e.output;
}

TEST_F(PretrainedCli, FineTunedBiEncoderIsHandedBackToSentenceTransformers) {
  REQUIRE_REFERENCES();
  const std::string run = temp_path("bi");
  auto r = zoo::testing::run_binary(
      "train_sts --set model.architecture=bi --set model.head=cosine --set init.hf_checkpoint=" + kMiniLM +
      " --set data.synthetic_pairs=40 --set train.max_steps=3 --set train.batch_size=4 --set optim.lr=1e-4 --out " + run);
  ASSERT_EQ(r.status, 0) << r.output;
  r = zoo::testing::run_binary("zoo export --run " + run);
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "modules.json",
                        "1_Pooling/config.json", "sentence_bert_config.json"})
    EXPECT_TRUE(fs::exists(run + "/export/hf/" + f)) << f;
  EXPECT_TRUE(fs::exists(run + "/export/weights.safetensors"));
  const std::string check = kPython + " " + kSource + "/tests/python/hf_export_check.py " + run + "/export sts 2>&1";
  const std::string out = command_output(check + "; echo status=$?");
  EXPECT_NE(out.find("status=0"), std::string::npos) << out;
}

TEST_F(PretrainedCli, MlmStartsFromAnEncoderWithoutHeadAndIsHandedBackToTransformers) {
  REQUIRE_REFERENCES();
  const std::string run = temp_path("mlm");
  auto r = zoo::testing::run_binary("train_mlm --set init.hf_checkpoint=" + kMiniLM +
                                    " --set train.max_steps=2 --set train.batch_size=4 --set data.max_seq_len=32 --out " +
                                    run);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("has no MLM head (cls.predictions.*): the head starts from a fresh initialisation"),
            std::string::npos)
      << r.output;
  r = zoo::testing::run_binary("zoo export --run " + run);
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string out = command_output(kPython + " " + kSource + "/tests/python/hf_export_check.py " + run +
                                         "/export mlm 2>&1; echo status=$?");
  EXPECT_NE(out.find("status=0"), std::string::npos) << out;
}

TEST_F(PretrainedCli, ConflictingConfigIsOneLineError) {
  if (!fs::exists(kMiniLM + "/model.safetensors")) GTEST_SKIP() << "no " << kMiniLM << " (scripts/fetch_pretrained.sh)";
  const auto r = zoo::testing::run_binary("train_sts --set model.architecture=bi --set model.pooling=cls --set init.hf_checkpoint=" +
                                          kMiniLM + " --out " + temp_path("never"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("model.pooling contradicts the checkpoint's 1_Pooling/config.json (mean)"), std::string::npos)
      << r.output;
  // The banner, the CPU line (kernel, precision), then the error.
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 3) << r.output;
}

}  // namespace
