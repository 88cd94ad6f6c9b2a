// Published checkpoints as users really hold them, and hostile ones (issue 29): a
// huggingface_hub cache snapshot (every file a relative link into ../../blobs/) starts a run whose
// init_checkpoint/ holds the settings under their own names, nothing written outside the run;
// links to special files, folders that resolve outside the checkpoint and special files in
// place of settings are one-line errors naming the file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>

#include "io/formats/hf_bert.h"
#include "models/sts.h"
#include "tests/train/hf_cache_layout.h"
#include "tests/scratch_dir.h"
#include "train/hf_checkpoint.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

// Each test's files in a folder of its own, removed after it.
class HfCache : public testing::ScratchDirTest {
 protected:
  // An empty folder NAME in this test's folder.
  std::string temp_dir(const std::string& name) const {
    const std::string dir = temp_path(name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
  }
};

using testing::bytes_of;
using testing::make_hf_cache;

// Every path under `dir`, relative, for "nothing was written elsewhere".
std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.insert(e.path().lexically_relative(dir).string());
  return out;
}

std::string copy_error(const std::string& checkpoint, const std::string& run) {
  try {
    bool load = false;
    open_run_init_checkpoint(checkpoint, run, load);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST_F(HfCache, SnapshotOfLinksIsCopiedByTheLinksOwnNamesIntoTheRun) {
  const std::string base = temp_dir("snapshot"), model = base + "/model", run = base + "/runs/run";
  testing::write_tiny_model(model, /*normalize=*/true);
  const std::string snapshot = make_hf_cache(model, base + "/hub");
  ASSERT_TRUE(fs::is_symlink(snapshot + "/config.json"));
  ASSERT_TRUE(fs::is_symlink(snapshot + "/1_Pooling/config.json"));
  const auto cache_before = listing(base + "/hub");
  fs::create_directories(run);

  bool load_weights = false;
  const PretrainedBert p = open_run_init_checkpoint(snapshot, run, load_weights);
  EXPECT_TRUE(load_weights);
  EXPECT_EQ(p.pooling, "mean");
  EXPECT_TRUE(p.normalize);
  // The settings, under their own names, as regular files with the blobs' contents.
  for (const char* f : {"config.json", "vocab.txt", "tokenizer_config.json", "modules.json", "1_Pooling/config.json",
                        "sentence_bert_config.json", "special_tokens_map.json"}) {
    const fs::path copied = fs::path(run) / "init_checkpoint" / f;
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(copied))) << f;
    EXPECT_EQ(bytes_of(copied), bytes_of(fs::path(model) / f)) << f;
  }
  EXPECT_FALSE(fs::exists(run + "/init_checkpoint/model.safetensors"));  // settings only
  // Nothing written outside the run: runs/ holds the run alone, the cache is unchanged.
  EXPECT_EQ(listing(base + "/runs").size(), listing(run).size() + 1);
  EXPECT_EQ(listing(base + "/hub"), cache_before);
  // A resumed run reads its copy, which is a complete checkpoint's settings.
  const PretrainedBert copy = open_pretrained_bert(run + "/init_checkpoint", /*need_weights=*/false);
  EXPECT_EQ(copy.pooling, "mean");
  EXPECT_EQ(copy.bert.hidden_size, 8);
}

TEST_F(HfCache, LinksToSecretsLandInsideTheRunAndLinksToSpecialFilesAreRefused) {
  const std::string base = temp_dir("links"), model = base + "/model", run = base + "/runs/run";
  testing::write_tiny_model(model, /*normalize=*/true);
  std::ofstream(base + "/secret") << "{\"not\": \"yours\"}";
  // The example: leak.json -> a private file outside the checkpoint. Followed (it is a
  // regular file), but copied by its own name inside the run, never beside it.
  fs::create_symlink(base + "/secret", model + "/leak.json");
  fs::create_directories(run);
  EXPECT_EQ(copy_error(model, run), "");
  EXPECT_EQ(bytes_of(run + "/init_checkpoint/leak.json"), "{\"not\": \"yours\"}");
  EXPECT_EQ(listing(base + "/runs").size(), listing(run).size() + 1);

  // shadow.json -> a device: refused by what it is, and no half-made init_checkpoint is left.
  const std::string run2 = base + "/runs/run2";
  fs::create_directories(run2);
  fs::create_symlink("/dev/zero", model + "/shadow.json");
  EXPECT_EQ(copy_error(model, run2), model + "/shadow.json: is a character device, not a regular file");
  EXPECT_TRUE(fs::is_empty(run2)) << *listing(run2).begin();
}

TEST_F(HfCache, ModuleFolderLinkedOutsideTheCheckpointIsRefused) {
  const std::string base = temp_dir("pooling"), model = base + "/model";
  testing::write_tiny_model(model, /*normalize=*/true);
  fs::rename(model + "/1_Pooling", base + "/elsewhere");
  fs::create_directory_symlink(base + "/elsewhere", model + "/1_Pooling");
  try {
    open_pretrained_bert(model);
    FAIL() << "accepted a 1_Pooling outside the checkpoint";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("modules.json: module 1: 'path' \"1_Pooling\" resolves to " +
                                         fs::weakly_canonical(base + "/elsewhere").string() +
                                         ", outside the checkpoint directory"),
              std::string::npos)
        << e.what();
  }
  // A link that stays inside is followed.
  fs::remove(model + "/1_Pooling");
  fs::rename(base + "/elsewhere", model + "/pooling_files");
  fs::create_directory_symlink("pooling_files", model + "/1_Pooling");
  EXPECT_EQ(open_pretrained_bert(model).pooling, "mean");
}

TEST_F(HfCache, SpecialFilesInPlaceOfSettingsAreNamedByWhatTheyAre) {
  struct Case {
    std::string file;
    std::function<void(const std::string&)> make;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"tokenizer_config.json", [](const std::string& p) { ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0); },
       "tokenizer_config.json: is a FIFO, not a regular file"},
      {"config.json", [](const std::string& p) { fs::create_directory(p); }, "config.json: is a directory, not a regular file"},
      {"vocab.txt", [](const std::string& p) { fs::create_symlink("/dev/zero", p); },
       "vocab.txt: is a character device, not a regular file"},
      {"modules.json", [](const std::string& p) { fs::create_symlink("/dev/zero", p); },
       "modules.json: is a character device, not a regular file"},
      // Deep JSON: refused at parse time, not a crash in the message's dump().
      {"config.json", [](const std::string& p) { std::ofstream(p) << std::string(100000, '[') << std::string(100000, ']'); },
       "config.json: invalid JSON: nested deeper than 64 levels"},
  };
  for (const auto& c : cases) {
    const std::string model = temp_dir("special");
    testing::write_tiny_model(model, /*normalize=*/true);
    fs::remove(model + "/" + c.file);
    c.make(model + "/" + c.file);
    std::string error;
    try {
      open_pretrained_bert(model);
      // vocab.txt is read when the tokenizer is made.
      Vocab::load(model + "/vocab.txt");
    } catch (const UserError& e) {
      error = e.what();
    }
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.file << ": " << error;
    fs::remove_all(model);
  }
}

}  // namespace
}  // namespace zoo
