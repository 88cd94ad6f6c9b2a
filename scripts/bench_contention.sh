#!/usr/bin/env bash
# A training step beside other CPU-bound processes (issue #28), in one run on this machine:
#   quiet, 1 core   the step on one core of a quiet machine (taskset), 1 thread: what a fair
#                   share of a machine with one competitor on every other core leaves us;
#   quiet           the step with all cores, zoo's default (--threads 0) and a fixed count;
#   1 competitor    the same beside one busy process, then beside COMPETITORS busy processes.
# The competitor is a Python busy loop (a second trainer loads the machine the same way).
# Prints RESULT lines and a Markdown table; the ratio is to "quiet, 1 core" (goal: <= 1.15 with
# one competitor).
# Usage: scripts/bench_contention.sh [TASK (sts)] [STEPS (6)]   Settings: COMPETITORS (3)
set -euo pipefail
cd "$(dirname "$0")/.."
task=${1:-sts}
steps=${2:-6}
heavy=${COMPETITORS:-3}
cores=$(nproc)
bin=build/bin/bench_step
[ -x "$bin" ] || scripts/build.sh --target bench_step >/dev/null
pids=()
stop_competitors() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; pids=(); }
trap stop_competitors EXIT
compete() { for ((i = 0; i < $1; i++)); do /usr/bin/python3 -c 'while True: pass' & pids+=($!); done; sleep 1; }
# step LABEL BENCH_ARGS...: the step's median in ms
step() {
  local label=$1 line ms
  shift
  line=$("$@" | grep '^RESULT ')
  ms=$(sed 's/.*"step_ms_median": \([0-9.]*\).*/\1/' <<<"$line")
  echo "RESULT {\"bench\": \"contention_$task\", \"case\": \"$label\", \"step_ms_median\": $ms}" >&2
  echo "$ms"
}
args=(--task "$task" --steps "$steps" --warmup 3)
one_core=$(step "quiet, 1 core" taskset -c 0 "$bin" "${args[@]}" --threads 1)
quiet_auto=$(step "quiet, threads 0" "$bin" "${args[@]}" --threads 0)
quiet_all=$(step "quiet, threads $cores" "$bin" "${args[@]}" --threads "$cores")
compete 1
one_auto=$(step "1 competitor, threads 0" "$bin" "${args[@]}" --threads 0)
one_all=$(step "1 competitor, threads $cores" "$bin" "${args[@]}" --threads "$cores")
one_single=$(step "1 competitor, threads 1" "$bin" "${args[@]}" --threads 1)
stop_competitors
compete "$heavy"
heavy_auto=$(step "$heavy competitors, threads 0" "$bin" "${args[@]}" --threads 0)
heavy_all=$(step "$heavy competitors, threads $cores" "$bin" "${args[@]}" --threads "$cores")
stop_competitors

ratio() { awk -v a="$1" -v b="$one_core" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "$task step, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $cores cores; OpenBLAS $(ZOO_BLAS_FIX=0 build/bin/zoo doctor 2>/dev/null | sed -n 's/^[a-zA-Z]* *blas kernel *\([A-Za-z0-9_]*\).*/\1/p')"
echo
echo "| machine | --threads 0 (zoo's default: follows free cores) | --threads $cores (fixed) | --threads 1 |"
echo "|---|---|---|---|"
echo "| quiet, one core (taskset), the reference | — | — | $one_core ms (1.00) |"
echo "| quiet | $quiet_auto ms | $quiet_all ms | — |"
echo "| 1 busy process | $one_auto ms ($(ratio "$one_auto")) | $one_all ms ($(ratio "$one_all")) | $one_single ms ($(ratio "$one_single")) |"
echo "| $heavy busy processes | $heavy_auto ms ($(ratio "$heavy_auto")) | $heavy_all ms ($(ratio "$heavy_all")) | — |"
