#!/usr/bin/env bash
# Runs the numeric tests again on the other kernel paths this CPU can take, so that one machine
# shows what many CPUs would (issue #28: a tolerance that held on an AMD EPYC's kernels failed on
# an Intel Xeon's). Each run forces one path and leaves the rest as they are:
#   OpenBLAS (LibTorch's fp32 matrix products): OPENBLAS_CORETYPE = Prescott (generic SSE3, what
#     an Intel CPU OpenBLAS 0.3.21 does not know gets), Sandybridge (AVX), Haswell (AVX2), SkylakeX
#     (AVX-512), each where this CPU runs it, except the one OpenBLAS picks by itself (the main run);
#   oneDNN (LibTorch's convolutions): ONEDNN_MAX_CPU_ISA = SSE41, AVX2, below this CPU's best.
# Usage: scripts/test_kernels.sh [ctest args]   (default: the numeric layers' labels)
# Expects a build (scripts/build.sh); prints one summary line per kernel path.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ZOO_BUILD_DIR:-build}
[ $# -gt 0 ] || set -- -L '^(models|losses|train|infer)$'
own=$(ZOO_BLAS_FIX=0 "$build/bin/zoo" doctor 2>/dev/null | sed -n 's/^[a-zA-Z]* *blas kernel *\([A-Za-z0-9_]*\).*/\1/p' || true)
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }

paths=()
for core in Prescott Sandybridge Haswell SkylakeX; do
  case $core in
    Sandybridge) has avx || continue ;;
    Haswell) has avx2 && has fma || continue ;;
    SkylakeX) has avx512f && has avx512bw && has avx512vl && has avx512dq || continue ;;
  esac
  [ "$core" = "$own" ] || paths+=("OPENBLAS_CORETYPE=$core")
done
if has avx512f; then
  paths+=(ONEDNN_MAX_CPU_ISA=SSE41 ONEDNN_MAX_CPU_ISA=AVX2)
elif has avx2; then
  paths+=(ONEDNN_MAX_CPU_ISA=SSE41)
fi

echo "test_kernels: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); OpenBLAS picks ${own:-?} by itself"
failed=0
for path in "${paths[@]}"; do
  log=$build/test_kernels_${path//[=]/_}.log
  start=$SECONDS
  if env "$path" ctest --test-dir "$build" --output-on-failure --timeout 600 -j "$(nproc)" "$@" >"$log" 2>&1; then
    echo "test_kernels: $path: $(grep -E 'tests passed' "$log" | tail -1) ($((SECONDS - start)) s)"
  else
    failed=1
    grep -E '^\s*[0-9]+ - .*\(Failed\)|tests passed|tests failed' "$log" >&2 || true
    echo "test_kernels: $path: FAILED ($log)" >&2
  fi
done
exit $failed
