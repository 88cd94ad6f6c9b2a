// The command line as a user meets it: error paths exit non-zero with one line naming the
// problem, and an end-to-end MLM run (train, resume, eval, export, predict) on the embedded corpus.
#include <gtest/gtest.h>

#include "tests/apps/run_binary.h"
#include "tests/scratch_dir.h"
#include "train/cpu_kernels.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;

zoo::testing::Outcome run(const std::string& args) { return zoo::testing::run_binary(args); }

// Each test's files in a folder of its own, removed after it.
class Cli : public zoo::testing::ScratchDirTest {};

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST_F(Cli, DoctorChecksOneThingPerLine) {
  // Never created: its existing ancestor, the temp directory, is checked.
  const std::string dir =
      (fs::temp_directory_path() / ("zoo_cli_doctor_runs_" + std::to_string(::getpid())) / "not/yet").string();
  const auto r = run("zoo doctor --out " + dir);
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* what :
       {"libtorch", "opencv", "blas", "blas kernel", "threads", "memory", "disk", "writable", "cuda", "images"})
    EXPECT_NE(r.output.find(std::string(" ") + what + " "), std::string::npos) << what << "\n" << r.output;
  EXPECT_EQ(count_lines(r.output), 10) << r.output;  // Debian's LibTorch runs on OpenBLAS: its kernel is a line
  EXPECT_NE(r.output.find(fs::temp_directory_path().string() + " is writable"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("FAIL"), std::string::npos) << r.output;
}

// OpenBLAS's generic kernel on a CPU with AVX2 or AVX-512 is what an Intel Xeon it does not
// know gets (issue #28). Forced here with OPENBLAS_CORETYPE, which zoo then leaves alone (the
// user's choice wins), and the doctor flags it with the kernel to use instead.
TEST_F(Cli, DoctorFlagsAGenericBlasKernelWithItsFix) {
  const std::string best = zoo::best_openblas_core();
  if (best.empty()) GTEST_SKIP() << "this CPU has no wider kernel than OpenBLAS's generic one";
  ::setenv("OPENBLAS_CORETYPE", "Prescott", 1);
  const auto r = run("zoo doctor");
  ::unsetenv("OPENBLAS_CORETYPE");
  EXPECT_EQ(r.status, 0) << r.output;  // a slow kernel is a warning, not a failure
  EXPECT_NE(r.output.find("WARN  blas kernel    Prescott ("), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("forced by OPENBLAS_CORETYPE=Prescott: a slower kernel than this CPU supports; unset it "
                          "or set it to " + best),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("restarting"), std::string::npos) << "the user's setting wins\n" << r.output;
}

TEST_F(Cli, MissingConfigFile) {
  const auto r = run("zoo train --config /nonexistent/cfg.json");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "zoo: error: /nonexistent/cfg.json: missing\n");
}

TEST_F(Cli, MalformedConfigNamesFileAndLine) {
  const std::string path = write_temp("bad.json", "{\"task\": \"mlm\",\n \"train\": {\"max_steps\": }\n}");
  const auto r = run("zoo train --config " + path);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(path + ":2: invalid JSON"), std::string::npos) << r.output;
  EXPECT_EQ(count_lines(r.output), 1) << r.output;
}

TEST_F(Cli, UnknownKeyAndUnknownTask) {
  const std::string path = write_temp("unknown.json", R"({"task": "mlm", "model": {"hiden_size": 8}})");
  auto r = run("zoo train --config " + path);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("unknown key 'model.hiden_size'"), std::string::npos) << r.output;
  r = run("zoo train --config " + write_temp("task.json", R"({"task": "gpt"})"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("unknown task 'gpt'"), std::string::npos) << r.output;
}

TEST_F(Cli, BadOverrideAndBadDevice) {
  auto r = run("train_mlm --set train.max_steps=abc --out " + temp_path("never"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("train.max_steps' must be an integer"), std::string::npos) << r.output;
  r = run("train_mlm --device tpu --out " + temp_path("never"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("train.device"), std::string::npos) << r.output;
  // A JSON list with commas arrives whole (and names the missing file).
  r = run("train_mlm --set 'data.text_files=[\"/nonexistent/a.txt\",\"/nonexistent/b.txt\"]' --out " +
          temp_path("never"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("data.text_files names a file that does not exist: /nonexistent/a.txt"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(temp_path("never")));
}

TEST_F(Cli, UnknownCommandAndMissingRun) {
  auto r = run("zoo fly");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("unknown command 'fly'"), std::string::npos);
  r = run("zoo eval --run /nonexistent/run");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "zoo: error: /nonexistent/run: not a run directory (no config.json)\n");
  r = run("zoo tasks");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("mlm"), std::string::npos);
}

TEST_F(Cli, MlmEndToEndWithResume) {
  const std::string dir = temp_path("mlm_run");
  const std::string tiny =
      " --set model.hidden_size=32 --set model.num_layers=1 --set model.num_heads=2"
      " --set model.intermediate_size=64 --set data.max_seq_len=32 --set data.vocab_size=300"
      " --set data.embedded_documents=200 --set train.batch_size=8 --set train.eval_every_steps=3"
      " --set schedule.warmup_steps=2 --set train.threads=1 --set data.val_max_sequences=32";
  auto r = run("train_mlm" + tiny + " --set train.max_steps=3 --out " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir + "/vocab.txt"));
  EXPECT_TRUE(fs::exists(dir + "/checkpoints/best.pt"));
  // Refuses to overwrite a run without --resume.
  r = run("train_mlm" + tiny + " --out " + dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("--resume"), std::string::npos);
  r = run("train_mlm --resume --set train.max_steps=6 --out " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from"), std::string::npos);
  r = run("zoo eval --run " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("perplexity"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir + "/eval_val.json"));
  r = run("zoo export --run " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"model.pt", "model.onnx", "weights.pt", "config.json", "vocab.txt", "meta.json"})
    EXPECT_TRUE(fs::exists(dir + "/export/" + f)) << f;
  r = run("zoo predict --run " + dir + " \"anna lives in [MASK] , a city in france .\"");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("[MASK] 1:"), std::string::npos) << r.output;
  r = run("zoo predict --run " + dir + " \"no mask here\"");
  EXPECT_EQ(r.status, 1);
}

TEST_F(Cli, StsEndToEnd) {
  const std::string dir = temp_path("sts_run");
  auto r = run("train_sts --set model.hidden_size=32 --set model.num_layers=1 --set model.num_heads=2"
               " --set model.intermediate_size=64 --set data.synthetic_pairs=200 --set data.max_seq_len=32"
               " --set data.vocab_size=200 --set train.batch_size=8 --set train.max_steps=4"
               " --set train.threads=1 --out " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("pearson"), std::string::npos) << r.output;
  r = run("zoo export --run " + dir);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir + "/export/model.pt"));
  r = run("zoo predict --run " + dir + " \"a man is playing a guitar .\" \"a man plays the guitar .\"");
  ASSERT_EQ(r.status, 0) << r.output;
  const double score = std::stod(r.output);
  EXPECT_GE(score, 0.0);
  EXPECT_LE(score, 5.0);
  // The run's export through --export: the same line (both go through zoo::infer).
  const std::string by_run = r.output;
  r = run("zoo predict --export " + dir + "/export \"a man is playing a guitar .\" \"a man plays the guitar .\"");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, by_run);
  r = run("zoo predict --run " + dir + " --export " + dir + "/export \"a\" \"b\"");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("give one of --run DIR and --export DIR"), std::string::npos) << r.output;
  r = run("zoo predict --run " + dir + " \"only one sentence\"");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("even number"), std::string::npos) << r.output;
}

}  // namespace
