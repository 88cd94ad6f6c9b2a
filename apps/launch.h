#pragma once
// `zoo launch --nproc N -- COMMAND...`: a one-machine launcher in the torchrun convention.
namespace zoo {

// argv[0] is "launch". Returns 0 when every rank succeeded, else the first failure's status.
int launch_command(int argc, char** argv);

}  // namespace zoo
