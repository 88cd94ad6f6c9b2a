#!/usr/bin/env bash
# Trains every demo config for a few steps with the zoo in BUILD_DIR, exports it and loads the
# export in /usr/bin/python3 (tests/python/load_exports.py): that files written by this LibTorch
# load in the system's Python torch. scripts/check_platforms.sh runs it in the Debian 13 root.
# Usage: tests/python/check_exports.sh [BUILD_DIR, default build]
set -euo pipefail
cd "$(dirname "$0")/../.."
zoo=${1:-build}/bin/zoo
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dirs=()
for config in apps/configs/*_demo.json; do
  name=$(basename "$config" .json)
  "$zoo" train --config "$config" --out "$out/$name" --set train.max_steps=3 --set train.eval_every_steps=3 \
    --set train.ckpt_every_steps=3 --set train.plots=false >/dev/null
  "$zoo" export --run "$out/$name" >/dev/null
  dirs+=("$out/$name/export")
done
/usr/bin/python3 tests/python/load_exports.py "${dirs[@]}"
