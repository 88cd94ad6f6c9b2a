#!/usr/bin/env bash
# Creates build-py/venv (idempotent): Debian's python3-torch 1.13.1 from the system site-packages
# plus pinned transformers / sentence-transformers, for the reference numbers of pretrained models
# (tests/python/st_reference.py) and ONNX Runtime for the ONNX exports. Everything goes in with --no-deps from the explicit list below:
# letting pip resolve would replace Debian's torch (it reports itself as 1.13.0a0+gitunknown) with
# a multi-GB PyPI torch. transformers 4.41 / sentence-transformers 3.0 still support torch 1.13.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/build-py/venv"
pins=(
  transformers==4.41.2 sentence-transformers==3.0.1 safetensors==0.4.3
  tokenizers==0.19.1 huggingface-hub==0.23.4 tqdm==4.66.4 filelock==3.15.4 packaging==24.1
  regex==2024.5.15 fsspec==2024.6.1
  # sentence-transformers imports its evaluators (scipy, scikit-learn) on import.
  scipy==1.13.1 scikit-learn==1.5.1 joblib==1.4.2 threadpoolctl==3.5.0
  # TensorBoard reads the trainer's event files in tests/python/tensorboard_check.py and serves
  # them (`build-py/venv/bin/tensorboard --logdir runs`).
  tensorboard==2.21.0 tensorboard-data-server==0.7.2 absl-py==2.5.1 grpcio==1.85.1 markdown==3.11.3
  werkzeug==3.1.9 markupsafe==3.0.4
  # its generated protocol buffer code needs this runtime (Debian's python3-protobuf is older)
  protobuf==6.31.1
  # onnx.checker and ONNX Runtime check and run our ONNX exports against the TorchScript ones
  # (tests/python/onnx_run.py). Not Debian's python3-onnx 1.12: its generated code predates the
  # protobuf 6 above. Both need only numpy and protobuf to load, check and run a model;
  # onnxruntime's other declared dependencies (coloredlogs, flatbuffers, sympy) serve only its
  # onnxruntime.tools scripts, which we do not use.
  onnx==1.17.0 onnxruntime==1.19.2
)
# numpy, Pillow, requests, PyYAML, typing_extensions come from Debian (system site-packages).
stamp="$venv/.zoo-pins"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${pins[*]}" ] && "$venv/bin/python" -c "" 2>/dev/null; then
  echo "setup_python_refs: $venv is up to date"
  exit 0
fi

if ! /usr/bin/python3 -c "import ensurepip, venv" 2>/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
/usr/bin/python3 -c "import torch" || { echo "setup_python_refs: error: run scripts/setup.sh first (python3-torch)" >&2; exit 1; }

rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: "${pins[@]}"
# Fail here, not in a test, if the install shadowed Debian's torch or is missing a module.
"$venv/bin/python" - <<'PY'
import torch, transformers, sentence_transformers, safetensors, tensorboard, onnx, onnxruntime
assert torch.__file__.startswith("/usr/lib/python3/"), torch.__file__
print("setup_python_refs: torch %s, transformers %s, sentence-transformers %s, tensorboard %s" % (
    torch.__version__, transformers.__version__, sentence_transformers.__version__, tensorboard.__version__))
PY
printf '%s' "${pins[*]}" > "$stamp"
echo "setup_python_refs: venv at $venv"
