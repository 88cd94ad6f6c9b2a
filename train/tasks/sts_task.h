#pragma once
// Task "sts": sentence-pair similarity (scores in [0, 5]) on the BERT encoder; cross- or
// bi-encoder, regression or distribution head; optionally initialised from an mlm run.
#include <memory>
#include <string>

#include "train/config.h"
#include "train/task.h"

namespace zoo {

Json sts_task_defaults();
std::unique_ptr<Task> make_sts_task(const Config& cfg, const std::string& run_dir,
                                    TaskData data = TaskData::kLoad);

}  // namespace zoo
