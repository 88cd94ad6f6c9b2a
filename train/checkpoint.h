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

}  // namespace zoo
