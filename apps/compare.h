#pragma once
// `zoo compare RUN...`: runs side by side from their metrics.jsonl (as TensorBoard's run
// comparison): a Markdown table of each run's last and best held-out metrics with steps and wall
// time, and a PNG of one metric over wall time for all runs.
#include <ostream>
#include <string>
#include <vector>

namespace zoo {

struct CompareOptions {
  std::string metric;    // empty: the runs' primary metric (what picks their best checkpoint)
  std::string plot_png;  // empty: no plot
};

// Throws UserError naming a run without metrics.jsonl or evaluations, or a metric no run has.
void compare_runs(const std::vector<std::string>& run_dirs, const CompareOptions& options, std::ostream& out);
// The command line: zoo compare RUN... [--metric M] [--plot FILE.png].
int compare_command(int argc, char** argv);

}  // namespace zoo
