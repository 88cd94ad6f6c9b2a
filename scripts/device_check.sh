#!/usr/bin/env bash
# The checks that need a GPU, as one command for a lent GPU machine (about 10 minutes):
#   1. builds build-device/ against the machine's own PyTorch (Torch_DIR from python3's torch),
#      with the NCCL process group;
#   2. runs the CUDA-labelled tests (every demo task's training step and the RPN head on CUDA
#      equal the CPU's within 1e-3 relative);
#   3. trains each demo config for STEPS steps with --device cuda and with --device cpu, same seed,
#      and compares the loss curves: the mean of the last 3 logged losses must agree within 10%.
#      Not bitwise: dropout masks and the RPN's anchor sampler draw from each device's own
#      generator, and reductions run in another order, so the curves agree only statistically;
#      a wrong kernel, a diverging or NaN run is far outside 10%;
#   4. `zoo launch` with one rank per GPU over NCCL (needs 2 GPUs; skipped with a message on one);
#   5. prints each model's time per training step on CUDA and on the CPU.
# Prerequisites on the machine: python3 with a CUDA torch, cmake, g++, and the -dev packages of
# scripts/setup.sh (OpenCV, gloo, cxxopts, nlohmann-json, GoogleTest, tinyxml2, ICU).
# Usage: scripts/device_check.sh   (ZOO_DEVICE_STEPS, default 200; PYTHON, default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${ZOO_DEVICE_STEPS:-200}
py=${PYTHON:-python3}
build=build-device
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0

torch_root=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)
"$py" -c 'import torch; assert torch.cuda.is_available(), "torch sees no GPU"; print("device_check: torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0))'
gpus=$("$py" -c 'import torch; print(torch.cuda.device_count())')
# nccl.h: the one of the nvidia-nccl wheel next to torch, else the system's.
site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
nccl_args=()
[ ! -f "$site/nvidia/nccl/include/nccl.h" ] || nccl_args=(-DZOO_NCCL_INCLUDE_DIR="$site/nvidia/nccl/include")

start=$(date +%s)
# torch's own folder as the prefix (not only Torch_DIR): TorchConfig.cmake's find_library would
# otherwise prefer a system LibTorch (e.g. Debian's) over the one next to these headers.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_root" -DZOO_WITH_NCCL=ON \
  "${nccl_args[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)" >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
echo "device_check: build $(( $(date +%s) - start )) s"

ctest --test-dir "$build" -L cuda --output-on-failure || fail=1

# One line per log window of metrics.jsonl: "step loss samples_per_s".
curve() { "$py" -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("split") == "train": print(r["step"], r["loss"], r["samples_per_s"])' "$1"; }

for config in apps/configs/*_demo.json; do
  name=$(basename "$config" _demo.json)
  pids=()
  for device in cuda cpu; do  # side by side: the CPU run has the cores, the CUDA run the GPU
    "$build/bin/zoo" train --config "$config" --device "$device" --seed 1 --out "$out/$name-$device" \
      --set train.max_steps="$steps" --set train.log_every_steps=10 --set train.eval_every_steps=0 \
      --set train.ckpt_every_steps=0 --set train.plots=false >"$out/$name-$device.log" 2>&1 &
    pids+=($!)
  done
  if ! wait "${pids[0]}" || ! wait "${pids[1]}"; then
    echo "device_check: $name: training failed"; tail -5 "$out/$name"-*.log; fail=1; continue
  fi
  curve "$out/$name-cuda/metrics.jsonl" >"$out/$name-cuda.curve"
  curve "$out/$name-cpu/metrics.jsonl" >"$out/$name-cpu.curve"
  batch=$("$py" -c 'import json,sys; t = json.load(open(sys.argv[1]))["train"]; print(t["batch_size"] * t.get("accum_steps", 1))' "$out/$name-cpu/config.json")
  "$py" - "$name" "$batch" "$out/$name-cuda.curve" "$out/$name-cpu.curve" <<'PY' || fail=1
import sys
name, batch = sys.argv[1], int(sys.argv[2])
cuda, cpu = ([[float(x) for x in l.split()] for l in open(f)] for f in sys.argv[3:5])
last = lambda c: sum(r[1] for r in c[-3:]) / 3
ms = lambda c: 1000.0 * batch / c[-1][2]  # the last window's time per step (warm)
rel = abs(last(cuda) - last(cpu)) / abs(last(cpu))
print("device_check: %s: final loss cuda %.4f cpu %.4f (%.1f%% apart, limit 10%%); step %.1f ms cuda, %.1f ms cpu"
      % (name, last(cuda), last(cpu), 100 * rel, ms(cuda), ms(cpu)))
sys.exit(0 if rel <= 0.10 else 1)
PY
done

if [ "$gpus" -ge 2 ]; then
  "$build/bin/zoo" launch --nproc "$gpus" -- "$build/bin/train_sts" --config apps/configs/sts_demo.json \
    --device cuda --out "$out/launch" --set train.max_steps=50 --set train.plots=false >"$out/launch.log" 2>&1 &&
    echo "device_check: zoo launch over NCCL, $gpus ranks: ok" ||
    { echo "device_check: zoo launch over NCCL FAILED"; tail -20 "$out/launch.log"; fail=1; }
else
  echo "device_check: zoo launch over NCCL skipped: $gpus GPU (NCCL needs one GPU per rank)"
fi
[ "$fail" -eq 0 ] && echo "device_check: all passed" || echo "device_check: FAILED"
exit "$fail"
