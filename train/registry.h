#pragma once
// An explicit name -> factory table of tasks (static self-registration would be dropped by the
// linker from static libraries).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "train/config.h"
#include "train/options.h"
#include "train/task.h"

namespace zoo {

struct TaskEntry {
  std::string name;
  std::string summary;
  std::function<Json()> defaults;  // every section, with code defaults
  std::function<std::vector<OptionDoc>()> docs;  // one line per option, for `zoo tasks NAME`
  // run_dir holds what the task keeps beside its checkpoints (e.g. vocab.txt).
  std::function<std::unique_ptr<Task>(const Config&, const std::string& run_dir, TaskData)> create;
};

const std::vector<TaskEntry>& task_registry();
// Throws UserError listing the known tasks.
const TaskEntry& find_task(const std::string& name);

}  // namespace zoo
