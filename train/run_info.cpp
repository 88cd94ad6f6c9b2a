#include "train/run_info.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <ctime>

#include "zoo_git_revision.h"

namespace zoo {

std::string git_revision() { return ZOO_GIT_REVISION; }
std::string libtorch_version() { return TORCH_VERSION; }

Json run_info(const std::string& device) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {{"git_revision", git_revision()},
          {"libtorch_version", libtorch_version()},
          {"device", device},
          {"threads", torch::get_num_threads()},
          {"created", date}};
}

}  // namespace zoo
