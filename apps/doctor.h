#pragma once
// `zoo doctor`: one line per thing a run depends on (LibTorch, OpenCV, the BLAS LibTorch uses and
// its speed, threads, memory, free disk and write access where runs go, CUDA, image codecs).
// Exit 1 when something would make a run fail.
#include <string>

namespace zoo {

// run_parent: where run directories will go (default runs/).
int check_machine(const std::string& run_parent);
// The command line: zoo doctor [--out DIR].
int doctor_command(int argc, char** argv);

}  // namespace zoo
