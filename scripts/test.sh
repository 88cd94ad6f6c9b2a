#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs the whole CTest suite.
# Usage: scripts/test.sh [extra ctest args, e.g. -LE slow or -R Trainer]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd "${ZOO_BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
