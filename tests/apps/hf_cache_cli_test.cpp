// A run started from a huggingface_hub cache snapshot (issue 29), as a user would: every file
// of models--X/snapshots/REV/ is a relative link into ../../blobs/. The run trains, keeps the
// settings by their own names in init_checkpoint/, exports (all or nothing: no temporary left),
// resumes from its copy, and writes nothing outside the run directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>

#include "io/formats/hf_bert.h"
#include "models/sts.h"
#include "tests/apps/run_binary.h"
#include "tests/scratch_dir.h"
#include "tests/train/hf_cache_layout.h"
#include "train/hf_checkpoint.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

using testing::bytes_of;

std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.insert(e.path().lexically_relative(dir).string());
  return out;
}

// A tiny sentence-transformers checkpoint in huggingface_hub's cache layout under BASE/hub;
// returns the snapshot folder.
std::string tiny_snapshot(const fs::path& base) {
  const fs::path model = base / "model";
  testing::write_tiny_model(model.string(), /*normalize=*/false);
  const std::string snapshot = testing::make_hf_cache(model.string(), (base / "hub").string());
  fs::remove_all(model);
  return snapshot;
}

// The cache and the run in a folder of their own, removed after the test.
class HfCacheCli : public testing::ScratchDirTest {};

TEST_F(HfCacheCli, RunFromACacheSnapshotTrainsExportsAndResumes) {
  const fs::path base = scratch_.path();
  const std::string snapshot = tiny_snapshot(base);
  const auto hub_before = listing(base / "hub");
  const std::string run = (base / "runs" / "run").string();
  const std::string common = " --set data.synthetic_pairs=40 --set train.batch_size=4 --set train.threads=1"
                             " --set train.plots=false --out " + run;
  auto r = zoo::testing::run_binary("train_sts --set model.architecture=bi --set model.head=cosine --set init.hf_checkpoint=" +
                                    snapshot + " --set train.max_steps=2" + common);
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"config.json", "vocab.txt", "modules.json", "1_Pooling/config.json", "tokenizer_config.json"})
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(run + "/init_checkpoint/" + f))) << f;
  r = zoo::testing::run_binary("zoo export --run " + run);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(run + "/export/hf/model.safetensors"));
  // A second export replaces the first whole; an export a killed process left is removed.
  fs::create_directories(run + "/export.999999999.0badf00d.tmp");
  const auto first_meta = bytes_of(run + "/export/meta.json");
  r = zoo::testing::run_binary("zoo export --run " + run);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(bytes_of(run + "/export/meta.json"), first_meta);
  for (const auto& name : listing(run))
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name << " left in the run";
  r = zoo::testing::run_binary("train_sts --resume --set train.max_steps=4" + common);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from"), std::string::npos) << r.output;
  // Nothing outside the run: runs/ holds the run alone (the issue saw settings land in
  // runs/blobs/), and the cache is as it was.
  EXPECT_EQ(listing(base / "runs").size(), listing(run).size() + 1);
  EXPECT_EQ(listing(base / "hub"), hub_before);
}

}  // namespace
}  // namespace zoo
