#!/usr/bin/env bash
# Benchmark (not a test; CI does not run it). In one run on this machine:
#   1. the machine's limit: float32 1024^3 matmul GFLOP/s on the configured threads;
#   2. per model, our training step (build/bin/bench_step) and its Python twin in
#      ../shared/bench/peers/ at the same configuration, alternating A B A B (each run warms up
#      first): median step times, ratio twin/ours (> 1 = we are faster), GFLOP/s (the twin's FLOP
#      count per step over each step time) and share of the matmul limit, peak RSS of each;
#   3. the data side on its own (bench_data, bench_tokenizer) against what training consumes;
#   4. TorchScript inference in C++ (bench_infer) of exports made here, run as zoo::infer runs
#      them (vision models optimised for inference, freed memory kept): a one-step run of each
#      task at the benchmarked model size, then `zoo export`; ONNX Runtime on the same export's
#      model.onnx (scripts/bench_onnx.py: same input shapes and threads), alternating zoo ORT
#      zoo ORT per round; and what zoo::infer's predictor adds to that module's forward at batch 1
#      on one realistic input (bench_predict).
# Writes bench/results.json, bench/results.md and bench/results_raw.jsonl (git-ignored) and prints
# the Markdown.
#   BENCH_QUICK=1     fewer repetitions (the whole run in under 3 minutes on a quiet machine)
#   BENCH_ROUNDS=N    A B rounds per model (default 3; quick 1)
#   BENCH_THREADS=N   intra-op threads of every process (default: all cores)
#   ZOO_PEERS=DIR     the Python twins (default ../shared/bench/peers)
set -euo pipefail
cd "$(dirname "$0")/.."
peers=${ZOO_PEERS:-../shared/bench/peers}
wikitext=../shared/data/wikitext2/valid.txt
python=/usr/bin/python3  # the twins need Debian's torch, not a python3 that may come first on PATH
threads=${BENCH_THREADS:-$(nproc)}
quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
  rounds=${BENCH_ROUNDS:-1}; steps=3; warmup=1; reps=3; rpn_reps=3
  data_args=(--batches 3 --hands 32 --pairs 5000 --detections 16)
else
  rounds=${BENCH_ROUNDS:-3}; steps=6; warmup=2; reps=10; rpn_reps=20; data_args=()
fi
[ -d "$peers" ] || { echo "bench: $peers not found (set ZOO_PEERS)" >&2; exit 1; }
[ -x "$python" ] || { echo "bench: $python not found" >&2; exit 1; }

echo "bench: building (${SECONDS}s)" >&2
scripts/build.sh --target bench_step bench_data bench_infer bench_predict bench_tokenizer zoo >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results.jsonl  # one JSON object per measurement, tagged with its round
failed=()

# record ROUND CMD...: runs CMD and keeps its "RESULT {json}" lines (and bench_tokenizer's bare
# JSON line, named "wordpiece"), each tagged with the round and the process's peak RSS measured
# from outside (the same way for ours and the twins; not every twin reports its own). A failing
# command is reported and skipped so that one broken twin does not cost the rest of the run; the
# exit status says so at the end.
cat >"$work/record.py" <<'PY'
import json, os, resource, subprocess, sys
round_, results, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
if p.returncode != 0:
    sys.stderr.write("\n".join(p.stderr.splitlines()[-5:]) + "\n")
    sys.exit(p.returncode)
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0  # the only child: CMD
with open(results, "a") as out:
    for line in p.stdout.splitlines():
        line = line[len("RESULT "):] if line.startswith("RESULT ") else line
        if line.startswith("{"):
            r = json.loads(line)
            r.setdefault("bench", "wordpiece")
            r.update(round=round_, process_peak_rss_mb=rss_mb)
            if os.environ.get("BENCH_TAG"):
                r["tag"] = os.environ["BENCH_TAG"]
            out.write(json.dumps(r) + "\n")
PY
record() {
  local round=$1; shift
  if ! "$python" "$work/record.py" "$round" "$results" "$@"; then
    echo "bench: FAILED: $*" >&2
    failed+=("$*")
  fi
}
# ours ROUND TASK: our step; twin ROUND SCRIPT ARGS...: a Python twin.
ours() { record "$1" build/bin/bench_step --threads "$threads" --steps "$steps" --warmup "$warmup" --task "$2"; }
twin() { record "$1" "$python" "$peers/$2" --threads "$threads" "${@:3}"; }

# The BLAS kernel (issue #28): OpenBLAS's own choice (ZOO_BLAS_FIX=0, what PyTorch gets), zoo's
# (its programs restart with OPENBLAS_CORETYPE when OpenBLAS picked a narrower kernel than the
# CPU runs), and every kernel this CPU runs: the machine's limit is the fastest of them.
echo "bench: matmul limit and BLAS kernels (${SECONDS}s)" >&2
own_kernel=$(ZOO_BLAS_FIX=0 build/bin/zoo doctor 2>/dev/null | sed -n 's/^[a-zA-Z]* *blas kernel *\([A-Za-z0-9_]*\).*/\1/p')
zoo_kernel=$(build/bin/zoo doctor 2>/dev/null | sed -n 's/^[a-zA-Z]* *blas kernel *\([A-Za-z0-9_]*\).*/\1/p')
BENCH_TAG=openblas_own record 0 env ZOO_BLAS_FIX=0 build/bin/bench_step --threads "$threads" --steps "$steps" --task matmul
ours 0 matmul
flags=$(grep -m1 '^flags' /proc/cpuinfo)
for core in Sandybridge Haswell SkylakeX; do
  case $core in  # only the kernels this CPU can run (OpenBLAS would take any, and crash)
    Sandybridge) [[ " $flags " == *" avx "* ]] || continue ;;
    Haswell) [[ " $flags " == *" avx2 "* && " $flags " == *" fma "* ]] || continue ;;
    SkylakeX) [[ " $flags " == *" avx512f "* && " $flags " == *" avx512bw "* && " $flags " == *" avx512vl "* &&
                 " $flags " == *" avx512dq "* ]] || continue ;;
  esac
  BENCH_TAG=kernel record 0 env OPENBLAS_CORETYPE=$core build/bin/bench_step --threads "$threads" --steps "$steps" --task matmul
done
[ "$quick" = 1 ] || twin 0 bench_sgemm.py --reps 5  # cross-check: torch.mm from Python
# The twins run as PyTorch ships (OpenBLAS's own kernel) and, where zoo changes the kernel, also
# with the same OPENBLAS_CORETYPE, so that a ratio compares like with like.
twin_fix=()
[ -z "$own_kernel" ] || [ "$own_kernel" = "$zoo_kernel" ] || twin_fix=(env "OPENBLAS_CORETYPE=$zoo_kernel")
twin_same_kernel() { [ ${#twin_fix[@]} -eq 0 ] || BENCH_TAG=same_kernel record "$1" "${twin_fix[@]}" "$python" "$peers/$2" --threads "$threads" "${@:3}"; }

# Per task of the task list and round: ours, then the twin(s); every run does its own warm-up first.
task_list=$(grep -E '^[a-z][a-z0-9_]*$' train/tasks/list.txt)
for model in $task_list; do
  case $model in
    mlm | sts | keypoints | heatmap | rpn) ;;
    *) echo "bench: $model has no Python twin in $peers: no step benchmark" >&2; continue ;;
  esac
  echo "bench: $model ($rounds rounds, ${SECONDS}s)" >&2
  for ((r = 0; r < rounds; r++)); do
    case $model in
      mlm)
        ours "$r" mlm
        twin "$r" bench_bert.py --task mlm --steps "$steps" --warmup "$warmup"
        twin "$r" bench_bert.py --task mlm --steps "$steps" --warmup "$warmup" --mlm-gather
        twin_same_kernel "$r" bench_bert.py --task mlm --steps "$steps" --warmup "$warmup" --mlm-gather ;;
      sts)
        ours "$r" sts
        twin "$r" bench_bert.py --task sts --steps "$steps" --warmup "$warmup"
        twin_same_kernel "$r" bench_bert.py --task sts --steps "$steps" --warmup "$warmup" ;;
      keypoints)
        ours "$r" keypoints
        twin "$r" bench_keypoint_resnet.py --steps "$steps" --warmup "$warmup" ;;
      heatmap)
        ours "$r" heatmap
        twin "$r" bench_heatmap.py --steps "$steps" --warmup "$warmup" ;;
      rpn)  # the twin times train step and eval proposals in one run, with its own repeat count
        ours "$r" rpn
        ours "$r" rpn_eval
        ours "$r" rpn_head       # the head's convolutions alone, to compare everything else
        ours "$r" rpn_head_eval
        twin "$r" bench_rpn.py --warmup "$warmup" --reps "$rpn_reps" ;;
    esac
  done
done

echo "bench: data side (${SECONDS}s)" >&2
record 0 build/bin/bench_data --threads "$threads" "${data_args[@]}"
if [ -f "$wikitext" ]; then
  record 0 build/bin/bench_tokenizer --vocab-size 8192 --runs "$((reps < 5 ? reps : 5))" "$wikitext"
else
  echo "bench: $wikitext not found: no WordPiece number" >&2
fi

# Exports at the benchmarked sizes: one training step from the demo config with the twin's
# model size (evaluation and plots kept minimal), then `zoo export`.
echo "bench: exports and inference (${SECONDS}s)" >&2
ort_python=build-py/venv/bin/python  # ONNX Runtime is a PyPI package: made by scripts/setup_python_refs.sh
if ! [ -x "$ort_python" ] || ! "$ort_python" -c 'import onnxruntime' 2>/dev/null; then
  echo "bench: no ONNX Runtime (run scripts/setup_python_refs.sh)" >&2
  ort_python=
fi
fast=(--set train.max_steps=1 --set train.plots=false --set train.log_every_steps=1 --set "train.threads=$threads")
hands=(--set data.image_size=128 --set data.synthetic_val_size=32 --set eval.mean_pose_samples=32
       --set eval.train_samples=32 --set eval.pictures=false)
bert=(--set model.hidden_size=256 --set model.num_layers=4 --set model.num_heads=4 --set model.intermediate_size=1024)
for task in $task_list; do
  case $task in
    mlm)  # WikiText-2 gives the twin's 8192-token vocabulary; the generated corpus has ~400 tokens
      extra=("${bert[@]}" --set data.max_seq_len=128 --set data.val_max_sequences=32)
      if [ -f "$wikitext" ]; then extra+=(--set "data.text_files=[\"$wikitext\"]" --set data.vocab_size=8192); fi ;;
    sts) extra=("${bert[@]}" --set data.max_seq_len=64 --set data.synthetic_pairs=400) ;;
    keypoints) extra=("${hands[@]}" --set model.base_width=64) ;;
    heatmap)
      extra=("${hands[@]}" --set "model.encoder_channels=[32,64,128,256]" --set "model.decoder_channels=[128,64,64]"
             --set model.decoder=deconv) ;;
    rpn) extra=(--set data.synthetic_val_size=8) ;;  # the demo's detector (ResNet stem, 256 px)
    *) extra=() ;;
  esac
  config=apps/configs/${task}_demo.json
  [ -f "$config" ] || { echo "bench: $config not found: no export" >&2; continue; }
  if build/bin/zoo train --config "$config" --out "$work/$task" "${fast[@]}" "${extra[@]}" >"$work/train.log" 2>&1 &&
     build/bin/zoo export --run "$work/$task" >>"$work/train.log" 2>&1; then
    for ((r = 0; r < rounds; r++)); do  # zoo then ONNX Runtime, back to back, as the training steps alternate
      # as zoo::infer runs the model: the vision predictors optimise it for inference
      optimize=(); case $task in keypoints | heatmap | rpn) optimize=(--optimize) ;; esac
      record "$r" build/bin/bench_infer --export "$work/$task/export" --threads "$threads" --warmup 3 --repeats "$reps" \
        "${optimize[@]}"
      # ONNX Runtime where the task exports ONNX (the five tasks; the example task shapes does not)
      [ -z "$ort_python" ] || [ ! -f "$work/$task/export/model.onnx" ] ||
        record "$r" "$ort_python" scripts/bench_onnx.py --export "$work/$task/export" \
          --threads "$threads" --warmup 3 --repeats "$reps"
    done
    case $task in  # the tasks zoo::infer has a predictor for
      mlm | sts | keypoints | heatmap | rpn)
        record 0 build/bin/bench_predict --export "$work/$task/export" --threads "$threads" --warmup 3 \
          --repeats "$((2 * reps))" ;;
    esac
  else
    echo "bench: FAILED: train/export $task" >&2
    tail -5 "$work/train.log" >&2
    failed+=("export $task")
  fi
done

# A training step beside other busy processes (issue #28): its own script, its table appended.
echo "bench: contention (${SECONDS}s)" >&2
if ! scripts/bench_contention.sh sts "$steps" >"$work/contention.md" 2>"$work/contention.log"; then
  echo "bench: FAILED: scripts/bench_contention.sh" >&2
  failed+=("contention")
fi
grep '^RESULT ' "$work/contention.log" | sed 's/^RESULT //' >>"$results" || true

# Summary: bench/results.json (every measurement + the tables' numbers) and bench/results.md.
# The raw measurements are kept first (bench/results_raw.jsonl), so a failing summary loses nothing.
mkdir -p bench
cp "$results" bench/results_raw.jsonl.tmp && mv bench/results_raw.jsonl.tmp bench/results_raw.jsonl
BENCH_QUICK=$quick BENCH_ROUNDS=$rounds BENCH_STEPS=$steps "$python" - "$results" "$threads" <<'PY'
import datetime, json, os, platform, statistics, subprocess, sys

rows = [json.loads(l) for l in open(sys.argv[1])]
threads = int(sys.argv[2])
by = {}
for r in rows:  # a tagged run (BENCH_TAG) is its own group: "bert_sts@same_kernel"
    by.setdefault(r["bench"] + ("@" + r["tag"] if r.get("tag") else ""), []).append(r)

def med(bench, key):
    v = [r[key] for r in by.get(bench, []) if r.get(key) is not None]
    return statistics.median(v) if v else None

def peak(bench):  # peak RSS of the process, measured from outside (record.py)
    v = [r.get("process_peak_rss_mb", r.get("peak_rss_mb")) for r in by.get(bench, [])]
    v = [x for x in v if x is not None]
    return max(v) if v else None

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
           platform.machine())
meta = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "cpu": cpu, "cores": os.cpu_count(), "threads": threads,
    "libtorch": sh("dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null") or "unknown",
    "openblas": sh("dpkg-query -W -f='${Version}' libopenblas0-openmp 2>/dev/null") or "unknown",
    "git": sh("git describe --always --dirty 2>/dev/null") or "unknown",
    "quick": os.environ.get("BENCH_QUICK") == "1",
    "rounds": int(os.environ["BENCH_ROUNDS"]), "steps_per_run": int(os.environ["BENCH_STEPS"]),
}
# The limit: the fastest kernel this CPU runs; and the kernel before (OpenBLAS's choice) and after
# (zoo's), each with its speed.
kernels = {}
for r in rows:
    if r["bench"] == "zoo_matmul" and r.get("blas_kernel"):
        kernels.setdefault(r["blas_kernel"], []).append(r["gflops"])
kernels = {k: statistics.median(v) for k, v in kernels.items()}
limit = max(kernels.values()) if kernels else med("zoo_matmul", "gflops")
kernel_before = (by.get("zoo_matmul@openblas_own") or [{}])[0].get("blas_kernel")
kernel_after = (by.get("zoo_matmul") or [{}])[0].get("blas_kernel")
meta.update(blas_kernel_openblas=kernel_before, blas_kernel_zoo=kernel_after)
py_mm = [x for r in by.get("sgemm", []) for x in r["results"]
         if x["kind"] == "mm" and x["shape"] == "1024x1024x1024" and x["threads"] == threads]
py_limit = statistics.median(x["gflops"] for x in py_mm) if py_mm else None

def fmt(x, spec=".0f", none="—"):
    return none if x is None else format(x, spec)

# Model rows: (label, ours bench, ours key, twin bench, twin key, GFLOP per step of ours, of the twin).
def gflop(bench, key):
    return med(bench, key)
mlm_gather_flop = gflop("bert_mlm_gather", "gflop_per_step_incl_decoder")
rpn_head_flop = gflop("rpn", "head_gflop_fwd") or 0.0
model_rows = [
    ("mlm (ours: decoder at masked positions)", "zoo_mlm", "step_ms_median", "bert_mlm", "step_ms_median",
     mlm_gather_flop, gflop("bert_mlm", "gflop_per_step_incl_decoder")),
    ("mlm vs twin --mlm-gather (same work)", "zoo_mlm", "step_ms_median", "bert_mlm_gather", "step_ms_median",
     mlm_gather_flop, mlm_gather_flop),
    ("sts cross-encoder", "zoo_sts", "step_ms_median", "bert_sts", "step_ms_median",
     gflop("bert_sts", "gflop_per_step_incl_decoder"), gflop("bert_sts", "gflop_per_step_incl_decoder")),
    ("keypoints ResNet-18 128 px", "zoo_keypoints", "step_ms_median", "keypoint_resnet18", "step_ms_median",
     gflop("keypoint_resnet18", "gflop_per_step"), gflop("keypoint_resnet18", "gflop_per_step")),
    ("heatmap + soft-argmax", "zoo_heatmap", "step_ms_median", "heatmap_softargmax", "step_ms_median",
     gflop("heatmap_softargmax", "gflop_per_step"), gflop("heatmap_softargmax", "gflop_per_step")),
    # RPN: only the head's convolutions count (the twin's head_gflop_fwd; x3 with backward).
    ("rpn train step", "zoo_rpn", "step_ms_median", "rpn", "train_step_ms", rpn_head_flop * 3, rpn_head_flop * 3),
    ("rpn eval proposals", "zoo_rpn_eval", "step_ms_median", "rpn", "eval_proposals_ms", rpn_head_flop,
     rpn_head_flop),
]
models = []
for label, ob, ok, tb, tk, of, tf in model_rows:
    o, t = med(ob, ok), med(tb, tk)
    if o is None and t is None:
        continue
    same = med(tb + "@same_kernel", tk)  # the twin on zoo's BLAS kernel, where zoo changes it
    row = {"model": label, "ours": ob, "twin": tb, "ours_ms": o, "twin_ms": t,
           "ratio_twin_over_ours": t / o if o and t else None,
           "twin_same_kernel_ms": same, "ratio_same_kernel": same / o if o and same else None,
           "ours_gflops": of / o * 1e3 if of and o else None, "twin_gflops": tf / t * 1e3 if tf and t else None,
           "ours_rss_mb": peak(ob), "twin_rss_mb": peak(tb),
           "ours_runs": len(by.get(ob, [])), "twin_runs": len(by.get(tb, []))}
    for side in ("ours", "twin"):
        g = row[side + "_gflops"]
        row[side + "_share_of_limit"] = g / limit if g and limit else None
    row["ours_gradient_mb"] = med(ob, "gradient_mb")  # what data-parallel training all-reduces
    models.append(row)

# The RPN goal excludes the head's convolutions (the same oneDNN kernels on both sides): step
# time minus the head alone (forward + backward, or forward), on each side.
def minus(a, b):
    return a - b if a is not None and b is not None else None
for label, ob, oh, tk, th in (
        ("rpn train step without the head's convolutions", "zoo_rpn", "zoo_rpn_head", "train_step_ms",
         "head_only_fwd_bwd_ms"),
        ("rpn eval proposals without the head's convolutions", "zoo_rpn_eval", "zoo_rpn_head_eval",
         "eval_proposals_ms", "head_only_eval_ms")):
    o = minus(med(ob, "step_ms_median"), med(oh, "step_ms_median"))
    t = minus(med("rpn", tk), med("rpn", th))
    if o is None or t is None:
        continue
    models.append({"model": label, "ours": ob, "twin": "rpn", "ours_ms": o, "twin_ms": t,
                   "ratio_twin_over_ours": t / o if o > 0 else None, "ours_gflops": None, "twin_gflops": None,
                   "ours_share_of_limit": None, "twin_share_of_limit": None,
                   "ours_rss_mb": None, "twin_rss_mb": None})

# Data side against training's consumption (from OUR step times).
def per_s(bench, items):
    ms = med(bench, "step_ms_median")
    return items / ms * 1e3 if ms else None
kp_images = per_s("zoo_keypoints", 32)
mlm_tokens = per_s("zoo_mlm", 32 * 128)
sts_pairs = per_s("zoo_sts", 32)
rpn_images = per_s("zoo_rpn", 2)
data = []
def data_row(label, rate, unit, need, need_label):
    if rate is None:
        return
    data.append({"what": label, "rate": rate, "unit": unit, "training_needs": need, "needs": need_label,
                 "headroom": rate / need if need else None})
for r in by.get("wordpiece", []):
    data_row(f"WordPiece tokenization (1 thread, {r['vocab_size']} vocab)", r["tokens"] / r["median_s"],
             "tokens/s", mlm_tokens, "mlm step tokens/s")
    data[-1]["mb_per_s"] = r["mb_per_s"]
for r in by.get("data_hand_loader", []):
    data_row(f"hand loader, augmented 128 px, {r['workers']} workers", r["images_per_s"], "images/s",
             kp_images, "keypoints step images/s")
data_row("synthetic hands (render, 128 px)", med("data_hand_synth", "samples_per_s"), "samples/s",
         kp_images, "keypoints step images/s")
data_row("synthetic STS pairs", med("data_sts_synth", "samples_per_s"), "pairs/s", sts_pairs, "sts step pairs/s")
data_row("synthetic detection images (256 px)", med("data_detection_synth", "samples_per_s"), "images/s",
         rpn_images, "rpn step images/s (no backbone)")

# Inference: medians over the rounds; ONNX Runtime (scripts/bench_onnx.py) on the same export
# beside it, compared only where it ran the same input shape and batch.
def ratio(a, b):
    return a / b if a and b else None
infer = []
for name, rs in sorted(by.items()):
    if name.startswith("infer_"):
        r = rs[-1]
        i = {"task": name[6:], "input_shape": r["input_shape"], "params": r["params"], "vocab": r.get("vocab"),
             "latency_ms_b1": med(name, "latency_ms_b1"), "batch": r["batch"], "batch_ms": med(name, "batch_ms"),
             "peak_rss_mb": peak(name), "runs": len(rs)}
        i["throughput_per_s"] = i["batch"] / i["batch_ms"] * 1e3
        ort_name = "onnx_" + i["task"]
        o = by.get(ort_name, [])
        i["onnx"] = None if not o else {
            "onnxruntime": o[-1]["onnxruntime"], "input_shape": o[-1]["input_shape"], "batch": o[-1]["batch"],
            "latency_ms_b1": med(ort_name, "latency_ms_b1"), "batch_ms": med(ort_name, "batch_ms"),
            "throughput_per_s": o[-1]["batch"] / med(ort_name, "batch_ms") * 1e3, "peak_rss_mb": peak(ort_name),
            "runs": len(o)}
        same = bool(i["onnx"]) and i["onnx"]["input_shape"] == i["input_shape"] and i["onnx"]["batch"] == i["batch"]
        if i["onnx"] and not same:
            sys.stderr.write(f"bench: {ort_name} ran other inputs than {name}: not compared\n")
        i["onnx_same_inputs"] = same
        # zoo's time over ONNX Runtime's: > 1 means ONNX Runtime is faster
        i["zoo_over_ort_b1"] = ratio(i["latency_ms_b1"], i["onnx"]["latency_ms_b1"]) if same else None
        i["zoo_over_ort_batch"] = ratio(i["batch_ms"], i["onnx"]["batch_ms"]) if same else None
        infer.append(i)
meta["onnxruntime"] = next((i["onnx"]["onnxruntime"] for i in infer if i["onnx"]), None)

predict = []
for name, rs in sorted(by.items()):
    if name.startswith("predict_"):
        r = rs[-1]
        task = name[8:]
        raw_largest = next((i["latency_ms_b1"] for i in infer if i["task"] == task), None)
        predict.append({"task": task, "input": r["input"], "api_ms_b1": r["api_ms_b1"], "raw_ms_b1": r["raw_ms_b1"],
                        "overhead_ms": r["overhead_ms"], "overhead_share": r["overhead_share"],
                        "bench_infer_ms_b1": raw_largest})

def pct(x):
    return "—" if x is None else f"{100 * x:.0f} %"

md = [f"# zoo benchmark ({'quick' if meta['quick'] else 'full'})", "",
      f"{meta['date']} · {meta['cpu']} ({meta['cores']} cores) · {threads} threads · "
      f"LibTorch {meta['libtorch']} · OpenBLAS {meta['openblas']} · "
      + (f"ONNX Runtime {meta['onnxruntime']} · " if meta["onnxruntime"] else "") + f"git {meta['git']} · "
      f"{meta['rounds']} rounds × {meta['steps_per_run']} timed steps", "",
      f"Machine limit: float32 1024³ matmul **{fmt(limit, '.1f')} GFLOP/s**, the fastest BLAS kernel this CPU runs"
      + (f" (torch.mm from Python: {py_limit:.1f})" if py_limit else ""), "",
      f"BLAS kernel: OpenBLAS picks **{kernel_before}** "
      f"({fmt(kernels.get(kernel_before), '.1f')} GFLOP/s), zoo runs **{kernel_after}** "
      f"({fmt(kernels.get(kernel_after), '.1f')} GFLOP/s); every kernel this CPU runs: "
      + ", ".join(f"{k} {v:.1f}" for k, v in sorted(kernels.items(), key=lambda kv: -kv[1])), "",
      "| model | ours (ms/step) | twin (ms/step) | twin/ours | ours GFLOP/s (of limit) "
      "| twin GFLOP/s (of limit) | peak RSS ours / twin (MB) |",
      "|---|---|---|---|---|---|---|"]
for m in models:
    same = (f" (on zoo's kernel: {fmt(m['twin_same_kernel_ms'])} ms, {m['ratio_same_kernel']:.2f}×)"
            if m.get("ratio_same_kernel") else "")
    md.append(f"| {m['model']} | {fmt(m['ours_ms'])} | {fmt(m['twin_ms'])} | "
              f"{fmt(m['ratio_twin_over_ours'], '.2f')}{'×' if m['ratio_twin_over_ours'] else ''}{same} | "
              f"{fmt(m['ours_gflops'], '.1f')} ({pct(m['ours_share_of_limit'])}) | "
              f"{fmt(m['twin_gflops'], '.1f')} ({pct(m['twin_share_of_limit'])}) | "
              f"{fmt(m['ours_rss_mb'])} / {fmt(m['twin_rss_mb'])} |")
md += ["", "| data side | rate | training consumes | headroom |", "|---|---|---|---|"]
for d in data:
    need = f"{fmt(d['training_needs'], ',.0f')} ({d['needs']})"
    extra = f" ({d['mb_per_s']:.1f} MB/s)" if "mb_per_s" in d else ""
    md.append(f"| {d['what']} | {d['rate']:,.0f} {d['unit']}{extra} | {need} | "
              f"{fmt(d['headroom'], '.1f')}{'×' if d['headroom'] else ''} |")
md += ["", "| inference (TorchScript, C++) | input | params | latency, batch 1 (ms) | ONNX Runtime batch 1 (ms) "
       "| zoo / ORT, batch 1 (> 1: ORT faster) | batch | batch time (ms) | ORT batch time (ms) "
       "| zoo / ORT, batch (> 1: ORT faster) | throughput (items/s) | peak RSS zoo / ORT (MB) |",
       "|---|---|---|---|---|---|---|---|---|---|---|---|"]
def times(x):
    return fmt(x, ".2f") + ("×" if x else "")
for i in infer:
    shape = "×".join(str(d) for d in i["input_shape"]) + (f", vocab {i['vocab']}" if i.get("vocab") else "")
    o = i["onnx"] if i["onnx_same_inputs"] else {}
    md.append(f"| {i['task']} | {shape} | {i['params'] / 1e6:.1f} M | {i['latency_ms_b1']:.1f} | "
              f"{fmt(o.get('latency_ms_b1'), '.1f')} | {times(i['zoo_over_ort_b1'])} | {i['batch']} | "
              f"{i['batch_ms']:.0f} | {fmt(o.get('batch_ms'))} | {times(i['zoo_over_ort_batch'])} | "
              f"{i['throughput_per_s']:,.0f} | {fmt(i['peak_rss_mb'])} / {fmt(o.get('peak_rss_mb'))} |")
md += ["", "| predictor (zoo::infer), batch 1 | model input | API call (ms) | raw forward, same tensors (ms) "
       "| overhead (ms) | bench_infer, largest input (ms) |", "|---|---|---|---|---|---|"]
for p in predict:
    shape = "×".join(str(d) for d in p["input"]["shape"])
    md.append(f"| {p['task']} | {shape} | {p['api_ms_b1']:.2f} | {p['raw_ms_b1']:.2f} | "
              f"{p['overhead_ms']:.2f} ({pct(p['overhead_share'])}) | {fmt(p['bench_infer_ms_b1'], '.2f')} |")
md.append("")
contention = os.path.join(os.path.dirname(sys.argv[1]), "contention.md")
if os.path.exists(contention):
    md += ["## Beside other busy processes (scripts/bench_contention.sh)", "", open(contention).read().strip(), ""]

def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)

write_atomic("bench/results.json", json.dumps({"meta": meta, "matmul_gflops": limit, "matmul_gflops_python": py_limit,
                                               "models": models, "data": data, "inference": infer, "predictors": predict,
                                               "measurements": rows}, indent=1) + "\n")
write_atomic("bench/results.md", "\n".join(md))
print("\n".join(md))
PY
echo "bench: wrote bench/results.json and bench/results.md (${SECONDS}s)" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: ${#failed[@]} command(s) failed: ${failed[*]}" >&2
  exit 1
fi
