#pragma once
// DIR/metrics.jsonl: one JSON object per log step and per evaluation, flushed as written.
#include <fstream>
#include <string>

#include "train/config.h"

namespace zoo {

class MetricsLog {
 public:
  // On resume, lines of steps after `keep_until_step` (written after the checkpoint the run
  // resumes from) are dropped so the file reads as one uninterrupted run.
  MetricsLog(const std::string& path, int64_t keep_until_step);
  void write(const Json& record);
  // The largest "elapsed_s" among the kept lines (0 for a new run): a resumed run's wall-time
  // axis continues from there (the time between that line and the interruption is not counted).
  double elapsed_before() const { return elapsed_before_; }

 private:
  std::ofstream out_;
  double elapsed_before_ = 0;
};

std::vector<Json> read_metrics_log(const std::string& path);

}  // namespace zoo
