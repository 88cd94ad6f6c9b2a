#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for a time
# budget, seeded with tests/fuzz/corpus/<target>/ and, for safetensors, every *.safetensors file
# under the directories given in ZOO_FUZZ_SEEDS (e.g. pretrained/).
# Usage: scripts/fuzz.sh [seconds per target, default 60] [extra libFuzzer flags]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
for tool in clang++-14 clang++; do command -v "$tool" >/dev/null && { cxx=$tool; break; }; done
if [ -z "${cxx:-}" ]; then
  echo "fuzz: clang++ not found (apt install clang-14 libclang-rt-14-dev)" >&2
  exit 77  # CTest's skip code (tests/CMakeLists.txt)
fi
out=build-fuzz
mkdir -p "$out"
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I.)
# The safetensors checks need no LibTorch: one translation unit and the target.
"$cxx" "${flags[@]}" io/safetensors_format.cpp tests/fuzz/safetensors_fuzz.cpp -o "$out/fuzz_safetensors"
for target in safetensors; do
  corpus="$out/corpus_$target"
  mkdir -p "$corpus"
  cp -n tests/fuzz/corpus/$target/* "$corpus/" 2>/dev/null || true
  for dir in ${ZOO_FUZZ_SEEDS:-}; do
    find "$dir" -name '*.safetensors' -size -200M -exec cp -n {} "$corpus/" \; 2>/dev/null || true
  done
  echo "fuzz: $target for ${seconds}s"
  rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*
  "$out/fuzz_$target" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/" -print_final_stats=1 "$@" 2>&1 |
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Done" || true
  # libFuzzer writes crash-*/timeout-*/oom-* files when it finds something.
  if ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* >/dev/null 2>&1; then
    echo "fuzz: $target found a failing input:" "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* >&2
    exit 1
  fi
done
