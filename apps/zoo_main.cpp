#include "apps/cli.h"

int main(int argc, char** argv) { return zoo::run_cli(argc, argv); }
