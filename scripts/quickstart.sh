#!/usr/bin/env bash
# Installs what is missing, builds (Release), then trains, evaluates and exports every task's
# demo model on data the project generates itself, and prints the held-out metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Only what the quickstart runs (the tests and benchmarks are built by scripts/test.sh).
tasks=$(grep -E '^[a-z][a-z0-9_]*$' train/tasks/list.txt)  # the task list
scripts/build.sh --target zoo $(printf 'train_%s ' $tasks)
bin=build/bin
runs=${ZOO_QUICKSTART_DIR:-runs/quickstart}
summary=()
for task in $tasks; do
  out="$runs/$task"
  rm -rf "$out"
  echo "== $task: train on generated data ($(basename apps/configs/${task}_demo.json))"
  "$bin/train_$task" --config "apps/configs/${task}_demo.json" --out "$out"
  summary+=("== $task ($out)" "$("$bin/zoo" eval --run "$out" | tail -n +2)")
  "$bin/zoo" export --run "$out"
done
echo
echo "held-out metrics (validation split of the generated data):"
printf '%s\n' "${summary[@]}"
echo
echo "run directories: $runs/<task> (config.json, metrics.jsonl, checkpoints/, plots/, export/)"
echo "try: $bin/zoo predict --run $runs/mlm \"anna lives in [MASK] , a city in france .\""
echo "     $bin/zoo predict --run $runs/sts \"a man is playing a guitar .\" \"a man plays the guitar .\""
echo "     $bin/zoo predict --run $runs/keypoints HAND_IMAGE.jpg   (draws the skeleton into $runs/keypoints/predictions/;"
echo "     the demo model knows only generated hands: see $runs/keypoints/plots/examples_val.png)"
echo "     $bin/zoo predict --run $runs/rpn IMAGE.jpg   (draws the top proposals into $runs/rpn/predictions/;"
echo "     the demo model knows only generated shapes: see $runs/rpn/plots/proposals_val.png)"
