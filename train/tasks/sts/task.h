#pragma once
// Task "sts": sentence-pair similarity (scores in [0, 5]) on the BERT encoder; cross- or
// bi-encoder, regression or distribution head; optionally initialised from an mlm run
// or a published checkpoint. Options: train/tasks/sts/options.h; metrics: evaluator.h; export: export.h.
#include <memory>
#include <string>

#include "train/config.h"
#include "train/registry.h"
#include "train/task.h"
#include "train/tasks/sts/options.h"

namespace zoo {

std::unique_ptr<Task> make_sts_task(const Config& cfg, const std::string& run_dir,
                                    TaskData data = TaskData::kLoad);

// The registry entry (train/tasks/list.txt).
TaskEntry sts_task_entry();

}  // namespace zoo
