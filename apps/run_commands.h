#pragma once
// Run directories from the command line: their resolved config, the trained task they hold, and
// the commands that only read them (zoo eval, zoo export).
#include <memory>
#include <string>
#include <vector>

#include "io/run_lock.h"
#include "train/registry.h"
#include "train/task.h"

namespace zoo {

// A config resolved against its task's defaults.
struct RunContext {
  Config config{Json::object()};
  const TaskEntry* entry = nullptr;
};

// The resolved config saved in a run directory, without its provenance block.
Json saved_config(const std::string& run_dir);
// The resolved config a run started with (config.json's run_info.started_with), or null for a
// run of an older zoo.
Json started_with(const std::string& run_dir);
// Compares `now` with what the run started with: a changed task, model.* or init.* key is an
// error naming it (the checkpoints hold the model it started with); when `resuming`, other
// changed keys but train.max_steps are printed, old -> new.
void check_settings_since_start(const std::string& run_dir, const Config& now, bool resuming);
// base ("task" and what differs from the defaults, from `origin`) over the task's defaults, then
// the --set assignments.
RunContext resolve(const Json& base, const std::string& origin, const std::vector<std::string>& sets);
// Loads the run's best weights (or its last checkpoint) into a freshly built task, under a shared
// lock of the run directory (held by `lock` for the caller's command).
std::unique_ptr<Task> open_run(const std::string& run_dir, const std::vector<std::string>& sets,
                               std::unique_ptr<RunLock>& lock, const std::string& command, TaskData data,
                               torch::Device* device_out = nullptr, Config* config_out = nullptr);
// DIR/data_report.json when the task skipped samples it could not read, and a line saying so.
void write_data_report(const Task& task, const std::string& run_dir);
void print_metrics(const Metrics& m);

// zoo eval --run DIR [--split val] [--set a.b=v]...: writes DIR/eval_<split>.json.
int eval_command(int argc, char** argv);
// zoo export --run DIR [--set a.b=v]...: DIR/export.
int export_command(int argc, char** argv);

}  // namespace zoo
