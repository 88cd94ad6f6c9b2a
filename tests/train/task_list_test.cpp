// The task list (train/tasks/list.txt) and the option tables behind every task, and the worked
// example task "shapes" (docs/adding_a_task.md) learning its job.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>

#include "tests/scratch_dir.h"
#include "train/registry.h"
#include "train/tasks/shapes/task.h"
#include "train/trainer.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> listed_names() {
  std::ifstream in(std::string(ZOO_SOURCE_DIR) + "/train/tasks/list.txt");
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') names.push_back(line);
  return names;
}

// Dotted keys of every leaf of a JSON object ("optim.lr").
void leaf_keys(const Json& j, const std::string& prefix, std::set<std::string>& out) {
  for (const auto& [key, value] : j.items()) {
    const std::string dotted = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object()) leaf_keys(value, dotted, out);
    else out.insert(dotted);
  }
}

TEST(TaskList, EveryListedTaskIsRegisteredWithAnOptionDocAndADemoConfig) {
  const auto names = listed_names();
  ASSERT_GE(names.size(), 6u);
  ASSERT_EQ(names.size(), task_registry().size());
  for (const auto& name : names) {
    const TaskEntry& task = find_task(name);
    // Declared once: every default key (but "task") has exactly one documented declaration, and
    // the documentation names no key the defaults lack.
    std::set<std::string> keys, documented;
    leaf_keys(task.defaults(), "", keys);
    keys.erase("task");
    for (const auto& d : task.docs()) {
      EXPECT_TRUE(documented.insert(d.key).second) << name << ": " << d.key << " documented twice";
      EXPECT_FALSE(d.doc.empty()) << name << ": " << d.key;
    }
    EXPECT_EQ(keys, documented) << name;
    const std::string demo = std::string(ZOO_SOURCE_DIR) + "/apps/configs/" + name + "_demo.json";
    ASSERT_TRUE(fs::exists(demo)) << demo;
    Config cfg(task.defaults());
    EXPECT_NO_THROW(cfg.merge_file(demo)) << demo;
    EXPECT_EQ(cfg.at("task"), name);
  }
}

// `zoo tasks NAME > my.json` must stay a config zoo reads: the doc lines are // comments.
TEST(TaskList, ConfigFilesMayCarryComments) {
  const testing::ScratchDir scratch("zoo_commented");
  const fs::path path = scratch.path() / "commented.json";
  std::ofstream(path) << "{\"train\": {\"max_steps\": 3}}\n// train.max_steps  optimizer steps\n";
  Config cfg(trainer_defaults());
  cfg.merge_file(path.string());
  EXPECT_EQ(cfg.at("train.max_steps"), 3);
}

TEST(TaskList, OptionChecksNameTheKeyAndTheRule) {
  Config cfg(find_task("shapes").defaults());
  cfg.set("data.image_size=30");
  try {
    make_shapes_task(cfg, "");
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "--set data.image_size: data.image_size must be a multiple of 4 in [16, 256] (got 30)");
  }
}

TEST(ShapesTask, LearnsToTellShapesApart) {
  Config cfg(find_task("shapes").defaults());
  for (const char* s : {"train.max_steps=150", "train.eval_every_steps=0", "train.plots=false",
                        "train.log_every_steps=1000", "data.val_size=300"})
    cfg.set(s);
  auto task = make_shapes_task(cfg, "");
  const testing::ScratchDir scratch("zoo_shapes");
  const fs::path dir = scratch.path() / "run";
  const double before = evaluate_task(*task, "val", torch::kCPU).at("accuracy");
  Trainer trainer(*task, train_options(cfg), optim_options(cfg), schedule_options(cfg), dir.string());
  trainer.fit(false, -1);
  const double after = evaluate_task(*task, "val", torch::kCPU).at("accuracy");
  EXPECT_LT(before, 0.5);  // three classes: chance is 1/3
  EXPECT_GT(after, 0.9) << "before " << before;
  task->export_model((dir / "export").string());
  for (const char* f : {"model.pt", "weights.pt", "weights.safetensors", "meta.json"})
    EXPECT_TRUE(fs::exists(dir / "export" / f)) << f;
}

}  // namespace
}  // namespace zoo
