"""ONNX Runtime's speed on a zoo export's model.onnx: the counterpart of build/bin/bench_infer
(apps/bench_infer.cpp) for model.pt, so that scripts/bench.sh can put the two side by side.

  bench_onnx.py --export DIR [--threads 2] [--warmup 3] [--repeats 10] [--seq N] [--batch 32]

Same inputs as bench_infer: shapes and dtypes from DIR/meta.json, read the same way (see
apps/bench_infer.cpp's header), at batch 1 and at --batch; the median of --repeats calls after
--warmup untimed ones. The values are drawn from the same distributions, not the same numbers
(numpy, not LibTorch's generator; importing torch would add its libraries to the peak RSS).
Prints one line "RESULT {json}" named "onnx_<task>". Whether ORT's outputs equal model.pt's is
tested elsewhere (tests/io/*_onnx_test.cpp), not here.
Needs onnxruntime (build-py/venv, made by scripts/setup_python_refs.sh).
"""
import argparse, json, os, resource, statistics, sys, time

import numpy as np
import onnxruntime as ort


def read_inputs(meta, seq):
    """[(name, shape with -1 for the batch, is_int64, fill)], as bench_infer's read_inputs."""
    if isinstance(meta.get("inputs"), list):
        int64 = meta.get("input_dtype", "float32") == "int64"
        specs = []
        for item in meta["inputs"]:
            if isinstance(item, str):  # BERT tasks: [B, max_seq_len] token-level inputs
                specs.append((item, [-1, seq if seq > 0 else meta.get("max_seq_len", 128)], int64, 0))
            else:
                specs.append((item.get("name", "input%d" % len(specs)), item["shape"],
                              item.get("dtype", "float32") == "int64", 0))
        return specs
    inp = meta.get("input")
    if isinstance(inp, dict) and "image_sizes" in inp:  # detection: square images padded to 32
        side = (inp.get("max_size", 800) + 31) // 32 * 32
        return [("images", [-1, 3, side, side], False, 0), ("image_sizes", [-1, 2], True, side)]
    if isinstance(inp, dict):
        return [(inp.get("name", "input"), inp["shape"], inp.get("dtype", "float32") == "int64", 0)]
    sys.exit("bench_onnx.py: meta.json names no inputs ('inputs' or 'input')")


def make_input(spec, batch, vocab, rng):
    """Token-level inputs by name, anything else by dtype, as bench_infer's make_input."""
    name, shape, int64, fill = spec
    shape = [batch if d < 0 else d for d in shape]
    if not int64:
        return rng.standard_normal(shape, dtype=np.float32)
    if "mask" in name:
        return np.ones(shape, np.int64)
    if "type" in name:  # token types 0, then 1 for the second half
        t = np.zeros(shape, np.int64)
        t[..., shape[-1] // 2:] = 1
        return t
    if "match" in name:
        return rng.integers(0, 2, shape, dtype=np.int64)
    if "ids" in name:
        return rng.integers(5, vocab if vocab > 5 else 1000, shape, dtype=np.int64)
    return np.full(shape, fill, np.int64)


def time_run(session, feed, warmup, repeats):
    """Median seconds of one session.run."""
    for _ in range(warmup):
        session.run(None, feed)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--export", required=True, help="export directory (zoo export writes RUN/export)")
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls first")
    p.add_argument("--repeats", type=int, default=10, help="timed calls")
    p.add_argument("--seq", type=int, default=0, help="BERT tasks: sequence length (0: the export's max_seq_len)")
    p.add_argument("--batch", type=int, default=32, help="throughput batch size")
    a = p.parse_args()
    if a.threads < 1 or a.warmup < 0 or a.repeats < 1 or a.batch < 1:
        sys.exit("bench_onnx.py: --threads, --repeats and --batch must be >= 1, --warmup >= 0")
    try:
        with open(os.path.join(a.export, "meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit("bench_onnx.py: %s/meta.json: %s" % (a.export, e))
    model = os.path.join(a.export, meta.get("onnx", "model.onnx"))
    if not os.path.isfile(model):
        sys.exit("bench_onnx.py: %s not found (an export from before ONNX? run zoo export again)" % model)
    specs = read_inputs(meta, a.seq)
    vocab = 0
    if "vocab" in meta:
        with open(os.path.join(a.export, meta["vocab"]), "rb") as f:
            vocab = sum(1 for _ in f)

    # As bench_infer sets LibTorch's threads: a.threads for the operators, none beside them.
    options = ort.SessionOptions()
    options.intra_op_num_threads = a.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    # meta.json's names are the graph's, except a single unnamed image input ("input" in
    # bench_infer, "images" in the graph): that one goes by position.
    graph_names = [i.name for i in session.get_inputs()]
    names = [s[0] for s in specs]
    if set(names) != set(graph_names):
        if len(specs) != len(graph_names):
            sys.exit("bench_onnx.py: %s has inputs %s, meta.json names %s" % (model, graph_names, names))
        names = graph_names

    rng = np.random.default_rng(0)
    result = {}
    for key, batch in (("b1", 1), ("bn", a.batch)):
        feed = {n: make_input(s, batch, vocab, rng) for n, s in zip(names, specs)}
        result[key] = time_run(session, feed, a.warmup, a.repeats)
    shape = [1 if d < 0 else d for d in specs[0][1]]
    print("RESULT " + json.dumps({
        "bench": "onnx_" + meta.get("task", "model"), "threads": a.threads, "input_shape": shape,
        "vocab": vocab, "latency_ms_b1": result["b1"] * 1e3, "batch": a.batch, "batch_ms": result["bn"] * 1e3,
        "throughput_per_s": a.batch / result["bn"], "onnxruntime": ort.__version__,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    main()
