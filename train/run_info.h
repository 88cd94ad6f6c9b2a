#pragma once
// Provenance written into DIR/config.json: git revision, LibTorch version, device, threads.
#include <string>

#include "train/config.h"

namespace zoo {

std::string git_revision();
std::string libtorch_version();
Json run_info(const std::string& device);

}  // namespace zoo
