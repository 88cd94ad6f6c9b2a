// Failure behaviour a user can rely on (docs/reliability.md): a full disk during a
// checkpoint is a one-line error that leaves the previous checkpoint and no temporary file; one
// writer per run directory; SIGINT/SIGTERM stop after the current step with last.pt written.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "data/hand_synth.h"
#include "tests/apps/run_binary.h"
#include "tests/scratch_dir.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// A small MLM on the embedded corpus: a step takes a few milliseconds.
const std::string kTiny =
    " --set model.hidden_size=32 --set model.num_layers=1 --set model.num_heads=2"
    " --set model.intermediate_size=64 --set data.max_seq_len=32 --set data.vocab_size=300"
    " --set data.embedded_documents=200 --set train.batch_size=8 --set schedule.warmup_steps=2"
    " --set train.threads=1 --set data.val_max_sequences=32 --set train.plots=false";

// data.embedded_documents for a setup of a few seconds (vocabulary learning), see below.
const std::string kSlowSetupDocuments = "20000";

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int temporaries_in(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().extension() == ".tmp") ++n;
  return n;
}

// Each test's runs in a folder of its own, removed after it. The scripts wait for the processes
// they start, so that nothing writes there once a test has ended.
class Reliability : public zoo::testing::ScratchDirTest {
 protected:
  // Runs a shell script (limits, signals and background jobs come first), capturing its output.
  zoo::testing::Outcome shell(const std::string& script) const {
    const std::string path = write_temp("script.sh", script);
    FILE* pipe = ::popen(("sh " + path + " 2>&1").c_str(), "r");
    zoo::testing::Outcome out{-1, ""};
    char buf[4096];
    while (pipe && std::fgets(buf, sizeof buf, pipe)) out.output += buf;
    const int raw = pipe ? ::pclose(pipe) : -1;
    out.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return out;
  }
};

TEST_F(Reliability, FullDiskDuringCheckpointIsOneLineAndKeepsThePrevious) {
  const std::string dir = temp_path("full");
  auto r = zoo::testing::run_binary("train_mlm" + kTiny + " --set train.max_steps=2 --out " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string last = dir + "/checkpoints/last.pt";
  const std::string before = bytes_of(last);
  ASSERT_GT(before.size(), 100000u);
  // A file-size limit below a checkpoint's size stands in for a full disk (EFBIG instead of
  // ENOSPC: the same failed write(2)); SIGXFSZ ignored so that the write fails, not the process.
  r = shell("trap '' XFSZ; ulimit -f 64; exec " + std::string(ZOO_BIN_DIR) + "/train_mlm --resume --set train.max_steps=4 --out " +
            dir + " 2>&1\n");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("train_mlm: error: " + dir + "/checkpoints/"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("write failed: File too large"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
  EXPECT_EQ(bytes_of(last), before) << "the previous last.pt must be intact";
  EXPECT_EQ(temporaries_in(dir), 0);
  // And the run resumes from it.
  r = zoo::testing::run_binary("train_mlm --resume --set train.max_steps=3 --out " + dir);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("at step 2"), std::string::npos) << r.output;
}

TEST_F(Reliability, OneWriterPerRunDirectory) {
  // Two runs started together into one directory: exactly one trains, the other is refused, and
  // the directory holds the winner's config and metrics.
  for (int round = 0; round < 10; ++round) {
    const std::string dir = temp_path("race");
    const std::string cmd = std::string(ZOO_BIN_DIR) + "/train_mlm" + kTiny + " --set train.max_steps=2 --out " + dir;
    const auto r = shell("(" + cmd + " --seed 7 >" + dir + ".7 2>&1; echo $? >>" + dir + ".7) & (" + cmd + " --seed 8 >" + dir +
                         ".8 2>&1; echo $? >>" + dir + ".8) & wait\n");
    ASSERT_EQ(r.status, 0);
    const std::string out7 = bytes_of(dir + ".7"), out8 = bytes_of(dir + ".8");
    const bool won7 = out7.size() >= 2 && out7.substr(out7.size() - 2) == "0\n";
    const bool won8 = out8.size() >= 2 && out8.substr(out8.size() - 2) == "0\n";
    ASSERT_NE(won7, won8) << "round " << round << "\n" << out7 << "\n---\n" << out8;
    const std::string& loser = won7 ? out8 : out7;
    EXPECT_TRUE(loser.find(" is in use by ") != std::string::npos || loser.find("already holds a run") != std::string::npos)
        << loser;
    const Json config = Json::parse(std::ifstream(dir + "/config.json"));
    EXPECT_EQ(config["train"]["seed"], won7 ? 7 : 8);
    EXPECT_GT(fs::file_size(dir + "/metrics.jsonl"), 0u);
    fs::remove_all(dir);
  }
}

TEST_F(Reliability, InterruptStopsAfterTheStepWithACheckpoint) {
  // HUP too: a closed terminal stops a run like Ctrl-C, with its checkpoint.
  for (const char* sig : {"INT", "TERM", "HUP"}) {
    const std::string dir = temp_path(std::string("signal_") + sig);
    // Enough steps that the signal lands mid-training; no periodic checkpoints.
    const auto r = shell(std::string(ZOO_BIN_DIR) + "/train_mlm" + kTiny +
                         " --set train.max_steps=100000 --set train.eval_every_steps=0 --set train.log_every_steps=10 --out " + dir +
                         " > " + dir + ".log 2>&1 &\npid=$!\n"
                         "while ! grep -q 'step 20/' " + dir + ".log 2>/dev/null; do sleep 0.1; done\n"
                         "kill -" + sig + " $pid\nwait $pid\necho status=$?\ncat " + dir + ".log\n");
    const std::string expected_status =
        std::string("status=") + (std::string(sig) == "INT" ? "130" : std::string(sig) == "TERM" ? "143" : "129");
    EXPECT_NE(r.output.find(expected_status), std::string::npos) << r.output;
    const auto at = r.output.find("stopped at step ");
    ASSERT_NE(at, std::string::npos) << r.output;
    const long step = std::stol(r.output.substr(at + 16));
    EXPECT_NE(r.output.find("resume with: zoo train --resume --out " + dir), std::string::npos) << r.output;
    const auto resumed = zoo::testing::run_binary("train_mlm --resume --set train.max_steps=" + std::to_string(step + 2) +
                                                  " --out " + dir);
    EXPECT_EQ(resumed.status, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("at step " + std::to_string(step) + "\n"), std::string::npos) << resumed.output;
  }
}

// Issue 29: a signal while the task was set up (a checkpoint or the data loading) killed the
// process at once and left a half-made run directory. Now the setup finishes, nothing is kept,
// and the exit status is the signal's; a resumed run is left as it was.
TEST_F(Reliability, SignalDuringSetupLeavesNoHalfMadeRun) {
  for (const char* sig : {"TERM", "HUP"}) {
    const std::string dir = temp_path(std::string("setup_") + sig);
    // A generated corpus large enough that learning its vocabulary takes seconds: the signal
    // lands between the lock and config.json.
    const auto r = shell(std::string(ZOO_BIN_DIR) + "/train_mlm" + kTiny +
                         " --set data.embedded_documents=" + kSlowSetupDocuments + " --set train.max_steps=2 --out " + dir +
                         " > " + dir + ".log 2>&1 &\npid=$!\n"
                         "while [ ! -e " + dir + "/.lock ]; do sleep 0.02; done\n"
                         "kill -" + sig + " $pid\nwait $pid\necho status=$?\ncat " + dir + ".log\n");
    const std::string status = std::string("status=") + (std::string(sig) == "TERM" ? "143" : "129");
    EXPECT_NE(r.output.find(status), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("stopped before training started ("), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir)) << r.output;
    fs::remove(dir + ".log");
  }
}

// Issue 29: an edited config.json was not compared with the checkpoints. A changed model is
// refused by name (export, eval, resume); other changed settings are named when resuming.
TEST_F(Reliability, EditedRunConfigIsComparedWithWhatTheRunStartedWith) {
  const std::string dir = temp_path("edited");
  auto r = zoo::testing::run_binary("train_mlm" + kTiny + " --set train.max_steps=2 --out " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto edit = [&](const std::function<void(Json&)>& change) {
    Json j = Json::parse(std::ifstream(dir + "/config.json"));
    change(j);
    std::ofstream(dir + "/config.json") << j.dump(2);
  };
  const double lr = Json::parse(std::ifstream(dir + "/config.json"))["optim"]["lr"].get<double>();
  edit([](Json& j) { j["optim"]["lr"] = 0.125; });
  r = zoo::testing::run_binary("train_mlm --resume --seed 99 --set train.max_steps=3 --out " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("resume: settings changed since the run started: optim.lr " + Json(lr).dump() +
                          " -> 0.125, train.seed 0 -> 99 ("),
            std::string::npos)
      << r.output;
  edit([](Json& j) { j["model"]["hidden_size"] = 64; });
  for (const std::string& command : {"zoo export --run " + dir, "train_mlm --resume --set train.max_steps=4 --out " + dir}) {
    r = zoo::testing::run_binary(command);
    EXPECT_EQ(r.status, 1) << command << "\n" << r.output;
    EXPECT_NE(r.output.find(dir + "/config.json: model.hidden_size is 64 but the run started with 32: its checkpoints hold "
                                  "that model"),
              std::string::npos)
        << command << "\n" << r.output;
  }
  EXPECT_FALSE(fs::exists(dir + "/export"));
  // Edited where the run started too (or a run of an older zoo, without run_info.started_with):
  // the checkpoint's shapes are compared with the model the config builds, naming the tensor
  // (LibTorch's load took the checkpoint's shapes silently). Hidden size, then the feed-forward.
  for (const auto& [key, value] : {std::pair<std::string, int>{"hidden_size", 64}, {"intermediate_size", 128}}) {
    edit([&](Json& j) {
      j["model"] = j["run_info"]["started_with"]["model"];
      j["model"][key] = value;
      j["run_info"]["started_with"]["model"][key] = value;
    });
    r = zoo::testing::run_binary("zoo export --run " + dir);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("in the checkpoint but "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("in the model the config describes (was config.json's model section edited?)"), std::string::npos)
        << r.output;
    EXPECT_FALSE(fs::exists(dir + "/export"));
    edit([&](Json& j) { j["run_info"]["started_with"]["model"][key] = j["model"][key] = value / 2; });
  }
}

// A hand data set on disk: `n` generated hands as PNGs and a CSV in millimetres.
void write_hand_csv(const fs::path& dir, int n) {
  fs::create_directories(dir / "img");
  std::ofstream csv(dir / "hands.csv");
  csv << "image,fx,fy,cx,cy";
  for (int j = 0; j < 21; ++j) csv << ",x" << j << ",y" << j << ",z" << j;
  csv << "\n";
  csv.precision(17);
  for (int i = 0; i < n; ++i) {
    const zoo::HandSample s = zoo::synthetic_hand(1000 + i, 64);
    cv::imwrite((dir / "img" / (std::to_string(i) + ".png")).string(), s.image);
    csv << "img/" << i << ".png," << s.K(0, 0) << "," << s.K(1, 1) << "," << s.K(0, 2) << "," << s.K(1, 2);
    for (const auto& p : s.xyz_mm) csv << "," << p.x << "," << p.y << "," << p.z;
    csv << "\n";
  }
}

// Export and predict need only the run directory (vocabulary, match classes, pose statistics are
// saved in it); eval needs the data and finds it again with --set.
TEST_F(Reliability, RunsStandAloneAfterTheirDataMoved) {
  const std::string sts = temp_path("sts_run"), data = temp_path("pairs") + ".tsv", moved = temp_path("moved_pairs") + ".tsv";
  {
    std::ofstream f(data);
    const char* words[] = {"a man plays a guitar", "a woman cuts an onion", "the dog runs in a park", "kids play football"};
    for (int i = 0; i < 16; ++i)
      f << "main-captions\tMSRvid\t2012test\t" << i << "\t" << (i % 6) << ".0\t" << words[i % 4] << "\t"
        << words[(i / 4) % 4] << "\n";
  }
  const std::string tiny = " --set model.hidden_size=16 --set model.num_layers=1 --set model.num_heads=2"
                           " --set model.intermediate_size=32 --set data.vocab_size=64 --set train.batch_size=4"
                           " --set train.threads=1 --set train.plots=false";
  auto r = zoo::testing::run_binary("train_sts" + tiny + " --set data.train_file=" + data + " --set data.val_file=" + data +
                                    " --set model.exact_match=true --set model.match_idf_buckets=4"
                                    " --set train.max_steps=2 --out " + sts);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(sts + "/vocab.txt"));
  EXPECT_TRUE(fs::exists(sts + "/match_classes.json"));
  r = zoo::testing::run_binary("zoo predict --run " + sts + " 'a man plays a guitar' 'kids play football'");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string before = r.output;
  // Text no training file would accept (a Latin-1 byte) is refused, naming the input, and the
  // escape sequence in it is echoed as \x1b, not sent to the terminal.
  r = zoo::testing::run_binary("zoo predict --run " + sts + " \"$(printf 'a man \\351 \\033[31m plays')\" 'kids play'");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("input 1 is not valid UTF-8"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\\x1b[31m"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << r.output;
  fs::rename(data, moved);
  r = zoo::testing::run_binary("zoo export --run " + sts);
  EXPECT_EQ(r.status, 0) << r.output;
  r = zoo::testing::run_binary("zoo predict --run " + sts + " 'a man plays a guitar' 'kids play football'");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, before);
  r = zoo::testing::run_binary("zoo eval --run " + sts);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(data), std::string::npos) << r.output;
  r = zoo::testing::run_binary("zoo eval --run " + sts + " --set data.train_file=" + moved + " --set data.val_file=" + moved);
  EXPECT_EQ(r.status, 0) << r.output;

  const std::string mlm = temp_path("mlm_run"), text = temp_path("text") + ".txt";
  {
    std::ofstream f(text);
    for (int doc = 0; doc < 30; ++doc)
      f << " = Article " << doc << " = \n the cat sat on the mat number " << doc << " . \n";
  }
  r = zoo::testing::run_binary("train_mlm" + kTiny + " --set 'data.text_files=[\"" + text + "\"]' --set train.max_steps=2 --out " + mlm);
  ASSERT_EQ(r.status, 0) << r.output;
  fs::remove(text);
  r = zoo::testing::run_binary("zoo export --run " + mlm);
  EXPECT_EQ(r.status, 0) << r.output;
  r = zoo::testing::run_binary("zoo predict --run " + mlm + " 'the cat sat on the [MASK] .'");
  EXPECT_EQ(r.status, 0) << r.output;

  const std::string hands = temp_path("hands"), moved_hands = temp_path("moved_hands"), kp = temp_path("kp_run");
  write_hand_csv(hands, 8);
  r = zoo::testing::run_binary("train_keypoints --set data.train_file=" + hands + "/hands.csv --set data.val_from_index=6"
                               " --set data.image_size=64 --set model.base_width=8 --set model.num_stages=2"
                               " --set train.batch_size=2 --set train.max_steps=2 --set data.workers=0"
                               " --set data.augment.enabled=false --set train.threads=1 --set train.plots=false"
                               " --set eval.pictures=false --out " + kp);
  ASSERT_EQ(r.status, 0) << r.output;
  fs::rename(hands, moved_hands);
  r = zoo::testing::run_binary("zoo export --run " + kp);
  EXPECT_EQ(r.status, 0) << r.output;
  r = zoo::testing::run_binary("zoo predict --run " + kp + " " + moved_hands + "/img/7.png");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(moved_hands + "/img/7.png"), std::string::npos) << r.output;
}

// A truncated training image is replaced by the next sample, a truncated validation image left
// out of the metrics; both are named in DIR/data_report.json.
TEST_F(Reliability, UnreadableImagesAreCountedAndNamedInTheDataReport) {
  const std::string hands = temp_path("bad_hands"), run = temp_path("bad_hands_run");
  write_hand_csv(hands, 8);
  for (const char* name : {"/img/1.png", "/img/7.png"}) fs::resize_file(hands + name, 100);
  const std::string args = " --set data.train_file=" + hands + "/hands.csv --set data.val_from_index=6"
                           " --set data.image_size=64 --set model.base_width=8 --set model.num_stages=2"
                           " --set train.batch_size=6 --set train.max_steps=1 --set data.workers=0"
                           " --set data.augment.enabled=false --set train.threads=1 --set train.plots=false"
                           " --set eval.pictures=false --set eval.mean_pose_samples=2";
  auto r = zoo::testing::run_binary("train_keypoints" + args + " --out " + run);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("data: 2 samples could not be read and were skipped"), std::string::npos) << r.output;
  const Json report = Json::parse(bytes_of(run + "/data_report.json"));
  ASSERT_EQ(report.at("train").at("skipped").size(), 1u) << report.dump();
  EXPECT_NE(report["train"]["skipped"][0].get<std::string>().find(hands + "/img/1.png"), std::string::npos);
  EXPECT_EQ(report.at("val").at("samples"), 2);
  ASSERT_EQ(report.at("val").at("skipped").size(), 1u) << report.dump();
  EXPECT_NE(report["val"]["skipped"][0].get<std::string>().find(hands + "/img/7.png"), std::string::npos);
  // data.skip_bad_images=false: the first unreadable image is an error naming it.
  r = zoo::testing::run_binary("train_keypoints" + args + " --set data.skip_bad_images=false --out " + run + "_strict");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("/img/"), std::string::npos) << r.output;
}

TEST_F(Reliability, RejectedConfigsNameTheKeyAndLeaveNoRunBehind) {
  const std::string dir = temp_path("rejected"), boxes_dir = temp_path("boxes"), boxes_csv = boxes_dir + "/boxes.csv";
  const std::string fifo = temp_path("fifo.json");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::create_directories(boxes_dir);
  for (const char* name : {"a.png", "b.png"}) cv::imwrite(boxes_dir + "/" + name, cv::Mat(48, 64, CV_8UC3, cv::Scalar(90)));
  std::ofstream(boxes_csv) << "image,width,height,class,x1,y1,x2,y2\na.png,100,100,cat,10,10,40,40\n"
                              "b.png,64,48,cat,10,10,40,40\n";
  struct Case {
    std::string args, expected;
  };
  const std::vector<Case> cases = {
      {"train_mlm --set optim.lr=-1", "optim.lr must be > 0"},
      {"train_sts --set data.format=xml", "data.format must be one of auto, stsb, csv, sick, jsonl (got \"xml\")"},
      {"train_rpn --set data.format=kitti --set data.train_file=" + std::string(ZOO_SOURCE_DIR) + "/README.md",
       "data.format must be one of auto, coco, voc, yolo, csv (got \"kitti\")"},
      {"zoo train --config " + std::string(ZOO_SOURCE_DIR) + "/apps", "/apps: is a directory, not a regular file"},
      // Special files: refused by what they are, before a byte is read (/dev/zero would be read
      // until memory ran out, a FIFO would block open() forever).
      {"zoo train --config /dev/zero", "/dev/zero: is a character device, not a regular file"},
      {"zoo train --config " + fifo, fifo + ": is a FIFO, not a regular file"},
      // A key naming a file that exists but is no regular file: not "does not exist" (issue 29).
      {"train_keypoints --set 'init.checkpoint=\"" + std::string(ZOO_SOURCE_DIR) + "/apps\"'",
       "init.checkpoint names a directory, not a regular file: " + std::string(ZOO_SOURCE_DIR) + "/apps"},
      {"train_keypoints --set 'init.checkpoint=\"" + fifo + "\"'", "init.checkpoint names a FIFO, not a regular file: " + fifo},
      // Sizes nothing holds: refused from a probe of one held-out batch, before the first step.
      {"train_sts --set train.batch_size=1000000000 --set data.synthetic_pairs=10",
       "train.batch_size 1000000000 needs ~"},
      {"train_keypoints --set train.batch_size=1000000000 --set data.synthetic_val_size=4 --set eval.batch_size=4"
       " --set data.image_size=64 --set model.base_width=8",
       "train.batch_size 1000000000 needs ~"},
      // A detection CSV whose image is not the size its rows say: refused before step 1.
      {"train_rpn --set data.train_file=" + boxes_csv + " --set data.val_from_index=1",
       "data.train_file " + boxes_dir + "/a.png: decoded 64x48 but the labels are for 100x100"},
  };
  for (const auto& c : cases) {
    const auto r = zoo::testing::run_binary(c.args + " --out " + dir);
    EXPECT_EQ(r.status, 1) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_EQ(r.output.find("error: "), r.output.rfind("error: ")) << "one error: " << r.output;
    EXPECT_EQ(r.output.find('\n', r.output.find("error: ")), r.output.size() - 1) << "on one line: " << r.output;
    EXPECT_FALSE(fs::exists(dir)) << c.args << " left " << dir;
  }
}

}  // namespace
