#!/usr/bin/env bash
# Masked-LM recipe ablations at an equal wall-time budget (docs/tasks/mlm.md).
# Each variant is apps/configs/mlm_wikitext2.json plus --set overrides. Its step count is sized to
# the budget from a 30-step probe of its own speed (steps are reproducible, wall time is not), with
# ten evaluations on the held-out validation articles along the way. One variant trains at a
# time: a second CPU-bound process would slow both.
#   scripts/mlm_ablation.sh OUT_DIR MINUTES NAME='--set a=b --set c=d' [NAME='...']...
# Writes OUT_DIR/NAME/ (a run directory each, its log beside it as NAME.log and its peak RSS as
# NAME.peak_rss_kb), then `zoo compare` prints the table and draws
# OUT_DIR/perplexity.png (validation perplexity over wall time). A finished variant is skipped,
# so an interrupted ablation continues where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n 2,10p "$0" >&2; exit 1; }
out=$1 minutes=$2
shift 2
zoo=build/bin/zoo
config=${MLM_CONFIG:-apps/configs/mlm_wikitext2.json}  # MLM_CONFIG: another base config
[ -x "$zoo" ] || { echo "mlm_ablation: $zoo not found: run scripts/build.sh" >&2; exit 1; }
[ -f ../shared/data/wikitext2/valid.txt ] || { echo "mlm_ablation: ../shared/data/wikitext2/valid.txt not found" >&2; exit 1; }
mkdir -p "$out"
runs=()
for variant in "$@"; do
  name=${variant%%=*}
  read -r -a sets <<<"${variant#*=}"
  runs+=("$out/$name")
  if [ -f "$out/$name/done" ]; then
    echo "mlm_ablation: $name is done" >&2
    continue
  fi
  rm -rf "$out/$name" "$out/$name.probe"
  # Probe: 30 steps of this variant; the last 10 give its speed.
  "$zoo" train --config "$config" --out "$out/$name.probe" "${sets[@]}" --set train.max_steps=30 \
    --set train.log_every_steps=10 --set train.eval_every_steps=0 --set train.plots=false >/dev/null
  steps=$(/usr/bin/python3 - "$out/$name.probe/metrics.jsonl" "$minutes" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l]
# samples/s over steps 21-30 and samples per step from the first record (step 10)
per_s = rows[-1]["samples_per_s"]
step_s = (rows[-1]["elapsed_s"] - rows[-2]["elapsed_s"]) / 10
budget = float(sys.argv[2]) * 60 * 0.95  # 5 % for the ten evaluations and checkpoints
print(max(10, int(budget / step_s) // 10 * 10))
PY
)
  rm -rf "$out/$name.probe"
  echo "mlm_ablation: $name: $steps steps in ~$minutes min (${sets[*]:-no overrides})" >&2
  /usr/bin/time -f %M -o "$out/$name.peak_rss_kb" \
    "$zoo" train --config "$config" --out "$out/$name" "${sets[@]}" --set train.max_steps="$steps" \
    --set train.eval_every_steps=$((steps / 10)) --set train.ckpt_every_steps=$((steps / 10)) \
    --set train.log_every_steps=$((steps / 50 > 0 ? steps / 50 : 1)) > "$out/$name.log" 2>&1
  echo "mlm_ablation: $name: peak RSS $(( $(cat "$out/$name.peak_rss_kb") / 1024 )) MB" >&2
  printf '%s\n' "${sets[@]:-}" > "$out/$name/done"
done
"$zoo" compare "${runs[@]}" --metric perplexity --plot "$out/perplexity.png"
