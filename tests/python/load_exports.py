"""Loads `zoo export` directories the way a Python user would, with whatever torch is installed:
model.pt with torch.jit.load, weights.pt with torch.load (no arguments: from torch 2.6 on that
is weights_only=True, the restricted unpickler), weights.safetensors with the safetensors
package where it is installed, model.onnx with onnx.checker (full_check) where onnx is installed
(Debian: python3-onnx). The two weight files must hold the same tensors (tied ones once in safetensors).
Usage: python3 load_exports.py EXPORT_DIR...   Exit status 1 on the first failure."""
import os
import sys

import torch


def check(export):
    module = torch.jit.load(os.path.join(export, "model.pt"))
    n_script = sum(1 for _ in module.parameters())
    weights = torch.load(os.path.join(export, "weights.pt"))
    assert isinstance(weights, dict) and weights, "weights.pt is not a non-empty dict"
    assert all(isinstance(v, torch.Tensor) for v in weights.values()), "weights.pt holds non-tensors"
    note = "no safetensors module: weights.safetensors not checked"
    try:
        from safetensors.torch import load_file
    except ImportError:
        load_file = None
    if load_file is not None:
        st = load_file(os.path.join(export, "weights.safetensors"))
        missing = st.keys() - weights.keys()
        assert not missing, "only in weights.safetensors: %s" % sorted(missing)
        for k, v in st.items():
            assert weights[k].dtype == v.dtype and torch.equal(weights[k], v), "tensor %s differs" % k
        # safetensors stores tied weights once (transformers' convention: the MLM decoder is the
        # word embedding); weights.pt, like pytorch_model.bin, has them under both names.
        tied = weights.keys() - st.keys()
        for k in tied:
            assert any(torch.equal(weights[k], v) for v in st.values()), \
                "%s is in weights.pt only and is no copy of a tensor of weights.safetensors" % k
        note = "weights.safetensors equal" + (" (%d tied names stored once)" % len(tied) if tied else "")
    try:
        import onnx
    except ImportError:
        onnx = None
    if onnx is None:
        note += ", no onnx module: model.onnx not checked"
    else:
        onnx.checker.check_model(onnx.load(os.path.join(export, "model.onnx")), full_check=True)
        note += ", model.onnx passes onnx.checker"
    print("load_exports: %s: model.pt (%d parameters), weights.pt (%d tensors), %s" %
          (export, n_script, len(weights), note))


if __name__ == "__main__":
    print("load_exports: torch %s" % torch.__version__)
    for d in sys.argv[1:]:
        check(d)
