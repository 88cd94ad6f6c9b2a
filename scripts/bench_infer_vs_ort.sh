#!/usr/bin/env bash
# zoo's TorchScript inference against ONNX Runtime on the same exports (issue #30), alternating
# per round, at 1 and 2 threads, 3 rounds of 10 timed calls, batch 1 and 32:
#   plain: bench_infer --glibc-malloc, the exported graph with glibc's malloc defaults;
#   zoo:   as zoo::infer runs it: freed memory kept for reuse, and for the vision tasks
#          torch::jit::optimize_for_inference (bench_infer --optimize);
#   ort:   scripts/bench_onnx.py on the export's model.onnx.
# The exports are those scripts/bench.sh times (sts at its BERT size, keypoints at 128 px, the
# demo rpn), made by one training step and `zoo export`, and, when scripts/fetch_pretrained.sh
# has fetched it, the MiniLM bi-encoder of apps/configs/sts_stsb_minilm_bi.json (one step from
# all-MiniLM-L6-v2; timed at 32 tokens a sentence, as STS-B's are shorter). Nothing else may run
# meanwhile.
# Usage: scripts/bench_infer_vs_ort.sh [WORK_DIR]   (default: a temporary directory, removed)
# Prints a Markdown table of medians over the rounds; the raw lines stay in WORK_DIR/results.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
python=build-py/venv/bin/python  # onnxruntime: scripts/setup_python_refs.sh
"$python" -c 'import onnxruntime' 2>/dev/null || { echo "bench_infer_vs_ort: no ONNX Runtime in $python" >&2; exit 1; }
work=${1:-}
if [ -z "$work" ]; then work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"
scripts/build.sh --target zoo bench_infer >/dev/null

fast=(--set train.max_steps=1 --set train.plots=false --set train.threads=1 --set train.tensorboard=false)
for task in sts keypoints rpn; do
  case $task in
    sts) extra=(--set model.hidden_size=256 --set model.num_layers=4 --set model.num_heads=4
                --set model.intermediate_size=1024 --set data.max_seq_len=64 --set data.synthetic_pairs=400) ;;
    keypoints) extra=(--set data.image_size=128 --set data.synthetic_val_size=32 --set eval.mean_pose_samples=32
                      --set eval.train_samples=32 --set eval.pictures=false --set model.base_width=64) ;;
    rpn) extra=(--set data.synthetic_val_size=8) ;;
  esac
  rm -rf "${work:?}/$task"
  build/bin/zoo train --config "apps/configs/${task}_demo.json" --out "$work/$task" "${fast[@]}" "${extra[@]}" >"$work/$task.log" 2>&1
  build/bin/zoo export --run "$work/$task" >>"$work/$task.log" 2>&1
done
tasks=(sts keypoints rpn)
if [ -f pretrained/all-MiniLM-L6-v2/model.safetensors ] && [ -f ../shared/data/stsb/original/sts-train.csv ]; then
  rm -rf "${work:?}/minilm_bi"
  build/bin/zoo train --config apps/configs/sts_stsb_minilm_bi.json --out "$work/minilm_bi" "${fast[@]}" >"$work/minilm_bi.log" 2>&1
  build/bin/zoo export --run "$work/minilm_bi" >>"$work/minilm_bi.log" 2>&1
  tasks+=(minilm_bi)
fi

results=$work/results.jsonl
: >"$results"
tag() { sed -n 's/^RESULT {/{"variant": "'"$1"'", "task": "'"$task"'", /p' >>"$results"; }
for threads in 1 2; do
  for round in 1 2 3; do
    for task in "${tasks[@]}"; do
      e=$work/$task/export
      optimize=(); case $task in keypoints|rpn) optimize=(--optimize) ;; esac
      seq=(); [ $task = minilm_bi ] && seq=(--seq 32)
      build/bin/bench_infer --export "$e" --threads $threads --warmup 3 --repeats 10 "${seq[@]}" --glibc-malloc | tag plain
      build/bin/bench_infer --export "$e" --threads $threads --warmup 3 --repeats 10 "${seq[@]}" "${optimize[@]}" | tag zoo
      "$python" scripts/bench_onnx.py --export "$e" --threads $threads --warmup 3 --repeats 10 "${seq[@]}" | tag ort
    done
  done
done
python3 - "$results" <<'PY'
import collections, json, statistics, sys
groups = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    groups[(r["task"], r["threads"], r["variant"])].append(r)
def med(task, threads, variant, key):
    return statistics.median(r[key] for r in groups[(task, threads, variant)])
print("| task | threads | plain b1 (ms) | zoo b1 | ORT b1 | zoo / ORT b1 | plain b32 (ms) | zoo b32 | ORT b32 | zoo / ORT b32 | zoo peak RSS / plain |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for task in [t for t in ("sts", "keypoints", "rpn", "minilm_bi") if (t, 1, "zoo") in groups]:
    for t in (1, 2):
        b1 = [med(task, t, v, "latency_ms_b1") for v in ("plain", "zoo", "ort")]
        bn = [med(task, t, v, "batch_ms") for v in ("plain", "zoo", "ort")]
        rss = med(task, t, "zoo", "peak_rss_mb") / med(task, t, "plain", "peak_rss_mb")
        print(f"| {task} | {t} | {b1[0]:.2f} | {b1[1]:.2f} | {b1[2]:.2f} | {b1[1] / b1[2]:.2f} | "
              f"{bn[0]:.0f} | {bn[1]:.0f} | {bn[2]:.0f} | {bn[1] / bn[2]:.2f} | {rss:.2f} |")
PY
