// train_<task>: `zoo train` with the task fixed at build time (ZOO_TASK).
#include "apps/cli.h"
#include "train/cpu_kernels.h"

int main(int argc, char** argv) {
  zoo::use_best_blas_kernel(argv);
  return zoo::run_cli(argc, argv, std::string(ZOO_TASK));
}
