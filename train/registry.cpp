#include "train/registry.h"

#include "task_list.h"  // generated from train/tasks/list.txt

namespace zoo {

const std::vector<TaskEntry>& task_registry() {
  static const std::vector<TaskEntry> entries = listed_tasks();
  return entries;
}

const TaskEntry& find_task(const std::string& name) {
  std::string known;
  for (const auto& e : task_registry()) {
    if (e.name == name) return e;
    known += (known.empty() ? "" : ", ") + e.name;
  }
  throw UserError("unknown task '" + name + "' (known: " + known + ")");
}

}  // namespace zoo
