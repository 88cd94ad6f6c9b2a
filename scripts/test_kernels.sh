#!/usr/bin/env bash
# Runs the numeric tests again on the other kernel paths this CPU can take, so that one machine
# shows what many CPUs would (issue #28: a tolerance that held on an AMD EPYC's kernels failed on
# an Intel Xeon's). Each run forces one path and leaves the rest as they are:
#   OpenBLAS (LibTorch's fp32 matrix products): OPENBLAS_CORETYPE = Prescott (generic SSE3), and
#     SkylakeX (AVX-512) where this CPU runs it; never the one OpenBLAS picks by itself, which the
#     main run covered;
#   oneDNN (LibTorch's convolutions): ONEDNN_MAX_CPU_ISA one level below this CPU's best.
# Usage: scripts/test_kernels.sh [ctest args]   (default: the numeric layers' labels)
# Expects a build (scripts/build.sh); prints one summary line per kernel path.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ZOO_BUILD_DIR:-build}
[ $# -gt 0 ] || set -- -L '^(models|losses|train|infer)$'
own=$(ZOO_BLAS_FIX=0 "$build/bin/zoo" doctor 2>/dev/null | sed -n 's/^[a-zA-Z]* *blas kernel *\([A-Za-z0-9_]*\).*/\1/p' || true)
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }

# Two or three paths keep this stage to a few minutes in CI: OpenBLAS's generic kernel (the widest gap from
# any CPU's own, and what an Intel CPU OpenBLAS 0.3.21 does not know gets), the AVX-512 one where
# the CPU has it and OpenBLAS did not pick it, and oneDNN one instruction set down.
# ZOO_KERNEL_PATHS="OPENBLAS_CORETYPE=Haswell ..." runs others.
paths=()
if [ -n "${ZOO_KERNEL_PATHS:-}" ]; then
  read -r -a paths <<<"$ZOO_KERNEL_PATHS"
else
  [ "$own" = Prescott ] || paths+=(OPENBLAS_CORETYPE=Prescott)
  if has avx512f && has avx512bw && has avx512vl && has avx512dq; then
    [ "$own" = SkylakeX ] || [ "$own" = Cooperlake ] || [ "$own" = SapphireRapids ] || paths+=(OPENBLAS_CORETYPE=SkylakeX)
    paths+=(ONEDNN_MAX_CPU_ISA=AVX2)
  elif has avx2; then
    paths+=(ONEDNN_MAX_CPU_ISA=SSE41)
  fi
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
