#pragma once
// Runs one of the project's binaries as a user would, capturing its exit status and output.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace zoo::testing {

struct Outcome {
  int status;
  std::string output;  // stdout and stderr together
};

// `args` starts with the binary's name in build/bin, e.g. "zoo eval --run DIR".
inline Outcome run_binary(const std::string& args) {
  const std::string cmd = std::string(ZOO_BIN_DIR) + "/" + args + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  Outcome out{-1, ""};
  std::array<char, 4096> buf{};
  while (pipe && std::fgets(buf.data(), buf.size(), pipe)) out.output += buf.data();
  const int raw = pipe ? ::pclose(pipe) : -1;
  out.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

}  // namespace zoo::testing
