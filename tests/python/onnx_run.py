"""Checks an ONNX export with onnx.checker and runs it in ONNX Runtime (tests/io/onnx_parity.h).

  onnx_run.py check MODEL.onnx
      onnx.checker.check_model with full_check (shape inference too); exit 0 when it accepts.
  onnx_run.py run MODEL.onnx INPUTS.pt OUTPUTS.pt
      INPUTS.pt: a dict "<case>/<graph input name>" -> tensor (torch.save format, as our C++ writes
      it); runs every case through one InferenceSession with all graph optimisations and writes
      "<case>/<output index>_<graph output name>" -> tensor to OUTPUTS.pt.

Needs onnx and onnxruntime (build-py/venv, made by scripts/setup_python_refs.sh).
"""
import sys
from collections import defaultdict

import torch

try:
    import onnx
    import onnxruntime as ort
except ImportError as e:
    print("onnx_run.py: %s: run scripts/setup_python_refs.sh (build-py/venv) for onnx.checker and ONNX Runtime" % e)
    sys.exit(77)  # the C++ test skips with this message


def check(path):
    onnx.checker.check_model(onnx.load(path), full_check=True)


def run(path, inputs_path, outputs_path):
    check(path)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    cases = defaultdict(dict)
    for key, tensor in torch.load(inputs_path).items():
        case, name = key.split("/", 1)
        cases[case][name] = tensor.numpy()
    names = [o.name for o in session.get_outputs()]
    out = {}
    for case, feed in sorted(cases.items()):
        for i, (name, value) in enumerate(zip(names, session.run(names, feed))):
            out["%s/%d_%s" % (case, i, name)] = torch.from_numpy(value.copy())
    torch.save(out, outputs_path)


if __name__ == "__main__":
    if sys.argv[1:2] == ["check"] and len(sys.argv) == 3:
        check(sys.argv[2])
    elif sys.argv[1:2] == ["run"] and len(sys.argv) == 5:
        run(*sys.argv[2:])
    else:
        sys.exit(__doc__)
