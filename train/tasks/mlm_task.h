#pragma once
// Task "mlm": mini-BERT masked language model on plain text or the embedded corpus.
#include <memory>
#include <string>

#include "train/config.h"
#include "train/task.h"

namespace zoo {

Json mlm_task_defaults();
std::unique_ptr<Task> make_mlm_task(const Config& cfg, const std::string& run_dir,
                                    TaskData data = TaskData::kLoad);

}  // namespace zoo
