#include "train/registry.h"

#include "train/tasks/mlm_task.h"

namespace zoo {

const std::vector<TaskEntry>& task_registry() {
  static const std::vector<TaskEntry> entries = {
      {"mlm", "mini-BERT masked language model (WordPiece, 15% masking, tied decoder)",
       mlm_task_defaults, make_mlm_task},
  };
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
