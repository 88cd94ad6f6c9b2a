#!/usr/bin/env bash
# Behaviour fingerprint for restructurings that must not change results: for every task, the
# SHA-256 of `zoo tasks NAME` (the full default config, without its // doc lines), of the demo config as the run resolved
# it (config.json without run_info), and of the exported weights after 20 training steps of the
# demo config with its fixed seed (weights.safetensors: every parameter and buffer, bitwise).
# Run it before and after a change and diff the two outputs:
#   scripts/checkpoint_digests.sh > before.txt   ...   scripts/checkpoint_digests.sh | diff before.txt -
# ~2 min on 2 cores. Needs build/bin/zoo; writes only to a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
zoo=${ZOO:-build/bin/zoo}
[ -x "$zoo" ] || { echo "checkpoint_digests: $zoo not found: run scripts/build.sh" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for task in mlm sts keypoints heatmap rpn; do
  "$zoo" tasks "$task" | grep -v "^//" > "$tmp/$task.tasks"  # the config; not the doc lines
  "$zoo" train --config "apps/configs/${task}_demo.json" --out "$tmp/$task" --set train.max_steps=20 \
    --set train.eval_every_steps=0 --set train.plots=false > "$tmp/$task.log" 2>&1 ||
    { cat "$tmp/$task.log" >&2; exit 1; }
  "$zoo" export --run "$tmp/$task" > /dev/null
  /usr/bin/python3 -c 'import json, sys; c = json.load(open(sys.argv[1])); c.pop("run_info", None); print(json.dumps(c, sort_keys=True))' \
    "$tmp/$task/config.json" > "$tmp/$task.config"
  printf '%-9s tasks %.16s  config %.16s  weights %.16s\n' "$task" \
    "$(sha256sum < "$tmp/$task.tasks")" "$(sha256sum < "$tmp/$task.config")" \
    "$(sha256sum < "$tmp/$task/export/weights.safetensors")"
done
