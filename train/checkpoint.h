#pragma once
// The files a run's checkpoints are (torch::serialize archives): written atomically, read with
// errors that name the file. The checkpoint's contents are Trainer::save_checkpoint's.
#include <torch/torch.h>

#include <string>

namespace zoo {

// Writes the archive to path atomically; a failure (full disk) is a UserError naming the path.
void save_archive(torch::serialize::OutputArchive& archive, const std::string& path);
// UserError "PATH: no such checkpoint" / "PATH: not a readable checkpoint (...)".
void load_archive(torch::serialize::InputArchive& archive, const std::string& path);
// Resuming needs the number of ranks that wrote the checkpoint (each rank's share of the data
// depends on it): UserError "PATH: written by a job of N rank(s), resumed with M; ...". The CLI
// checks it before it writes anything (a refused resume must leave the run as it was); a missing
// checkpoint is left to the trainer.
void check_resume_world_size(const std::string& path, int64_t world_size);

}  // namespace zoo
