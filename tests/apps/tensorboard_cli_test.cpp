// A run opens in TensorBoard: the events file a short keypoints run writes, read by TensorBoard's
// own reader (tests/python/tensorboard_check.py), holds every number of metrics.jsonl as a scalar
// at its step, the evaluation's pictures byte for byte, the resolved config as text, and the
// config's values as an hparams session that ended successfully, whose row in the HParams tab
// (as the plugin computes it) has the final metrics.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/apps/run_binary.h"
#include "tests/scratch_dir.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSource = ZOO_SOURCE_DIR;
const std::string kPython = kSource + "/build-py/venv/bin/python";

std::string command_output(const std::string& cmd, int* status) {
  std::string out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  char buf[4096];
  while (pipe != nullptr && std::fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
  const int raw = pipe != nullptr ? ::pclose(pipe) : -1;
  *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

std::string sha256_of(const std::string& path) {
  int status = 0;
  const std::string out = command_output("sha256sum " + path, &status);
  return out.substr(0, out.find(' '));
}

// The run in a folder of its own, removed after the test.
class TensorBoardCli : public zoo::testing::ScratchDirTest {};

TEST_F(TensorBoardCli, AKeypointsRunOpensInTensorBoardWithScalarsPicturesConfigAndHparams) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no reference venv (scripts/setup_python_refs.sh)";
  const std::string run = temp_path("run");
  const auto r = zoo::testing::run_binary(
      "train_keypoints --config " + kSource + "/apps/configs/keypoints_demo.json --set train.max_steps=6" +
      " --set train.log_every_steps=2 --set train.eval_every_steps=3 --set data.synthetic_val_size=16 --out " + run);
  ASSERT_EQ(r.status, 0) << r.output;
  int status = 0;
  const std::string out = command_output(kPython + " " + kSource + "/tests/python/tensorboard_check.py " + run, &status);
  if (status == 77) GTEST_SKIP() << out;
  ASSERT_EQ(status, 0) << out;
  const Json view = Json::parse(out);

  // Every number of metrics.jsonl (but wall time and the thread count) is a scalar at its step,
  // in float32, which is what the format stores: compared after the same rounding, with no
  // tolerance.
  std::map<std::string, Json> expected;
  Json last;  // {tag: [step, value]}: the last evaluation's metrics and the last training loss
  std::set<int64_t> eval_steps;
  std::ifstream log(run + "/metrics.jsonl");
  for (std::string line; std::getline(log, line);) {
    const Json rec = Json::parse(line);
    const std::string split = rec.at("split");
    if (split == "val") eval_steps.insert(rec.at("step").get<int64_t>());
    for (const auto& [key, value] : rec.items()) {
      if (!value.is_number() || key == "step" || key == "elapsed_s" || key == "threads") continue;
      const Json point = Json::array({rec.at("step"), static_cast<double>(static_cast<float>(value.get<double>()))});
      expected[split + "/" + key].push_back(point);
      if (split == "val" || key == "loss") last[split + "/" + key] = point;
    }
  }
  EXPECT_EQ(eval_steps, (std::set<int64_t>{3, 6}));
  for (const std::string tag : {"train/loss", "train/lr", "train/grad_norm", "train/samples_per_s", "val/mpjpe_mm",
                                "val/mean_pose_mpjpe_mm", "val/pck_auc"})
    EXPECT_TRUE(expected.count(tag)) << tag;
  ASSERT_EQ(view["scalars"].size(), expected.size()) << view["scalars"];
  for (const auto& [tag, points] : expected) EXPECT_EQ(view["scalars"].at(tag), points) << tag;

  // The evaluation's pictures, at each evaluation's step; the last is the file in DIR/plots.
  for (const std::string name : {"examples_val", "pck_val"}) {
    const Json& images = view["images"].at("pictures/" + name);
    ASSERT_EQ(images.size(), 2u) << name;
    EXPECT_EQ(images[0][0], 3);
    EXPECT_EQ(images[1][0], 6);
    EXPECT_EQ(images[1][3], sha256_of(run + "/plots/" + name + ".png")) << name;
  }

  // The resolved config as text (a Markdown code block) and as the hparams session.
  const Json config = Json::parse(std::ifstream(run + "/config.json"));
  const Json& text = view["text"].at("config");
  ASSERT_EQ(text.size(), 1u);
  std::istringstream block(text[0][1].get<std::string>());
  std::string unindented;
  for (std::string line; std::getline(block, line);) unindented += line.substr(4) + "\n";
  EXPECT_EQ(Json::parse(unindented), config);
  const Json& hp = view["hparams"].at("start");
  EXPECT_EQ(hp.at("task"), "keypoints");
  EXPECT_EQ(hp.at("optim.lr").get<double>(), config["optim"]["lr"].get<double>());
  EXPECT_EQ(hp.at("train.max_steps").get<double>(), 6.0);
  EXPECT_EQ(hp.at("data.augment.enabled"), config["data"]["augment"]["enabled"]);
  EXPECT_FALSE(hp.contains("run_info.git_revision"));
  EXPECT_EQ(view["hparams"].at("end_status"), 1);  // STATUS_SUCCESS

  // The HParams tab of `tensorboard --logdir RUN`: one session, RUN/hparams, whose metric
  // columns are the last evaluation's metrics and the last training loss, each with its value.
  const Json& table = view["table"];
  Json columns = Json::array();
  for (const auto& [tag, point] : last.items()) columns.push_back(Json::array({"", tag}));
  EXPECT_EQ(table["metrics"], columns);  // both sorted by tag
  ASSERT_EQ(table["sessions"].size(), 1u) << table;
  EXPECT_EQ(table["sessions"].at("hparams"), last);
  EXPECT_EQ(last.at("val/mpjpe_mm")[0], 6);
}

}  // namespace
