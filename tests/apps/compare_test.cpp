// zoo compare on hand-written metrics.jsonl files: the table's figures, the best the trainer
// marked, the plot, and the errors.
#include "apps/compare.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "io/error.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

// Each test's runs in a folder of its own, removed after it.
class CompareTest : public testing::ScratchDirTest {
 protected:
  std::string run(const std::string& name, const std::string& lines) {
    const fs::path d = scratch_.path() / name;
    fs::create_directories(d);
    std::ofstream(d / "metrics.jsonl") << lines;
    return d.string();
  }
};

// Two runs: the second is better at the end; its best is the one the trainer marked, not the
// last line (lower perplexity at step 20 than at 30).
TEST_F(CompareTest, TableHasLastAndMarkedBestValuesAndWallTime) {
  const std::string a = run("a",
                            R"({"step":10,"split":"train","elapsed_s":30,"loss":7.0})" "\n"
                            R"({"step":10,"split":"val","elapsed_s":33,"perplexity":900,"accuracy":0.05,"primary":"perplexity","is_best":true})" "\n"
                            R"({"step":20,"split":"val","elapsed_s":66,"perplexity":800,"accuracy":0.07,"primary":"perplexity","is_best":true})" "\n");
  const std::string b = run("b",
                            R"({"step":20,"split":"val","elapsed_s":60,"perplexity":500,"accuracy":0.1,"primary":"perplexity","is_best":true})" "\n"
                            R"({"step":30,"split":"val","elapsed_s":90,"perplexity":520,"accuracy":0.12,"primary":"perplexity","is_best":false})" "\n");
  std::ostringstream out;
  compare_runs({a, b}, {"", temp_path("p.png")}, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("| run | steps | wall time | perplexity (last) | best perplexity (step) | accuracy (last) |"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("| a | 20 | 1.1 min | 800 | 800 (20) | 0.07 |"), std::string::npos) << text;
  EXPECT_NE(text.find("| b | 30 | 1.5 min | 520 | 500 (20) | 0.12 |"), std::string::npos) << text;
  EXPECT_GT(fs::file_size(temp_path("p.png")), 1000u);

  // Another metric: no best is claimed (its direction is unknown).
  std::ostringstream acc;
  compare_runs({a}, {"accuracy", ""}, acc);
  EXPECT_NE(acc.str().find("| a | 20 | 1.1 min | 0.07 | — |"), std::string::npos) << acc.str();
}

TEST_F(CompareTest, ErrorsNameTheRunOrTheMetric) {
  const auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no UserError");
  };
  std::ostringstream out;
  const std::string missing = temp_path("nothing");
  EXPECT_NE(message([&] { compare_runs({missing}, {}, out); }).find(missing), std::string::npos);
  const std::string no_eval = run("no_eval", R"({"step":10,"split":"train","loss":7.0})" "\n");
  EXPECT_NE(message([&] { compare_runs({no_eval}, {}, out); }).find("no evaluation"), std::string::npos);
  const std::string old = run("old", R"({"step":10,"split":"val","perplexity":900})" "\n");
  EXPECT_NE(message([&] { compare_runs({old}, {}, out); }).find("--metric"), std::string::npos);
  EXPECT_NE(message([&] { compare_runs({old}, {"bleu", ""}, out); }).find("'bleu'"), std::string::npos);
  // An old log has no wall time: the table works, the plot is refused by name.
  EXPECT_NE(message([&] { compare_runs({old}, {"perplexity", temp_path("q.png")}, out); }).find("wall time"),
            std::string::npos);
}

}  // namespace
}  // namespace zoo
