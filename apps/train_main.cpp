// train_<task>: `zoo train` with the task fixed at build time (ZOO_TASK).
#include "apps/cli.h"

int main(int argc, char** argv) { return zoo::run_cli(argc, argv, std::string(ZOO_TASK)); }
