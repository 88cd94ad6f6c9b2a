#!/usr/bin/env bash
# Configures (once) and builds zoo in build/ (Release). Builds are serialised with a lock:
# two builds at once on 2 cores only slow each other down.
# Usage: scripts/build.sh [extra cmake --build args, e.g. --target test_text]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${ZOO_BUILD_DIR:-build}
jobs=${ZOO_JOBS:-$(nproc)}
exec 9>"/tmp/zoo-build-$(id -u).lock"
flock 9
# Configure every time (a second when nothing changed): a target added to a CMakeLists.txt
# must exist before `--target` names it.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${ZOO_BUILD_TYPE:-Release} ${ZOO_CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j "$jobs" "$@"
