#pragma once
// The command line shared by `zoo` and the per-task `train_<task>` binaries.
#include <optional>
#include <string>

namespace zoo {

// Runs `zoo <command> ...`; with `fixed_task`, runs `zoo train` for that task. Returns the exit
// status; errors are printed as one line on stderr.
int run_cli(int argc, char** argv, const std::optional<std::string>& fixed_task = std::nullopt);

}  // namespace zoo
