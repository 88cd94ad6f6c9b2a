#!/usr/bin/env bash
# Benchmark (not a test; CI does not run it): our training step against its Python twin in
# ../shared/bench/peers/, alternating A B A B on the same machine, then median step times and
# the ratio. BENCH_QUICK=1 runs fewer rounds. Models covered so far: mlm.
set -euo pipefail
cd "$(dirname "$0")/.."
peers=${ZOO_PEERS:-../shared/bench/peers}
threads=${BENCH_THREADS:-$(nproc)}
rounds=3; steps=6
if [ "${BENCH_QUICK:-0}" = 1 ]; then rounds=1; steps=3; fi
[ -d "$peers" ] || { echo "bench: $peers not found (set ZOO_PEERS)" >&2; exit 1; }
scripts/build.sh --target bench_step >/dev/null
out=$(mktemp)
for model in mlm; do
  for ((r = 0; r < rounds; r++)); do
    build/bin/bench_step --task "$model" --threads "$threads" --steps "$steps" --warmup 2 | grep '^RESULT' >>"$out"
    /usr/bin/python3 "$peers/bench_bert.py" --task "$model" --threads "$threads" --steps "$steps" --warmup 2 | grep '^RESULT' >>"$out"
    /usr/bin/python3 "$peers/bench_bert.py" --task "$model" --threads "$threads" --steps "$steps" --warmup 2 --mlm-gather | grep '^RESULT' >>"$out"
  done
done
/usr/bin/python3 - "$out" "$threads" <<'PY'
import json, statistics, sys, platform
rows = [json.loads(l.split(" ", 1)[1]) for l in open(sys.argv[1])]
by = {}
for r in rows: by.setdefault(r["bench"], []).append(r)
med = {k: statistics.median(x["step_ms_median"] for x in v) for k, v in by.items()}
rss = {k: max(x["peak_rss_mb"] for x in v) for k, v in by.items()}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
print(f"| workload | step (ms, median) | peak RSS (MB) | zoo speed-up |   ({cpu}, {sys.argv[2]} threads)")
print("|---|---|---|---|")
ours = med.get("zoo_mlm")
for k in ["zoo_mlm", "bert_mlm", "bert_mlm_gather"]:
    if k in med:
        ratio = "" if k.startswith("zoo") else f"{med[k] / ours:.2f}x"
        print(f"| {k} | {med[k]:.0f} | {rss[k]:.0f} | {ratio} |")
PY
rm -f "$out"
