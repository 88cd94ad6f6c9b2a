#pragma once
// Task "mlm": mini-BERT masked language model on plain text or the embedded corpus. Options:
// train/tasks/mlm/options.h; metrics: evaluator.h; export: export.h.
#include <memory>
#include <string>

#include "train/config.h"
#include "train/registry.h"
#include "train/task.h"
#include "train/tasks/mlm/options.h"

namespace zoo {

std::unique_ptr<Task> make_mlm_task(const Config& cfg, const std::string& run_dir,
                                    TaskData data = TaskData::kLoad);

// The registry entry (train/tasks/list.txt).
TaskEntry mlm_task_entry();

}  // namespace zoo
