"""Reads a run directory's TensorBoard events with TensorBoard's own reader (EventAccumulator,
the one `tensorboard --logdir` used before its Rust data server, with its purge of orphaned
steps) and prints what it found as JSON, for tests/apps/tensorboard_cli_test.cpp and
tests/train/tensorboard_log_test.cpp to compare with metrics.jsonl, the PNGs and config.json.

Usage: build-py/venv/bin/python tests/python/tensorboard_check.py RUN_DIR
Exit status 77 (the tests skip) when the tensorboard package is absent.
"""
import hashlib
import json
import sys

try:
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.plugins.hparams import metadata as hparams_metadata
except ImportError as e:  # the venv predates the tensorboard pin
    print("no tensorboard package (%s): run scripts/setup_python_refs.sh" % e, file=sys.stderr)
    sys.exit(77)


def plugin_content(acc, plugin):
    """{tag: content} of a plugin's summaries; {} when the run has none (TensorBoard raises)."""
    try:
        return acc.PluginTagToContent(plugin)
    except KeyError:
        return {}


def main(run_dir):
    # 0: keep every event (the defaults sample scalars and keep only 4 images per tag).
    acc = event_accumulator.EventAccumulator(
        run_dir, size_guidance={"scalars": 0, "images": 0, "tensors": 0}, purge_orphaned_data=True)
    acc.Reload()
    tags = acc.Tags()
    out = {"scalars": {}, "images": {}, "text": {}, "hparams": {}}
    for tag in tags["scalars"]:
        out["scalars"][tag] = [[e.step, e.value] for e in acc.Scalars(tag)]
    for tag in tags["images"]:
        out["images"][tag] = [[e.step, e.width, e.height, hashlib.sha256(e.encoded_image_string).hexdigest()]
                              for e in acc.Images(tag)]
    for tag in plugin_content(acc, "text"):
        out["text"][tag] = [[e.step, e.tensor_proto.string_val[0].decode("utf-8")] for e in acc.Tensors(tag)]
    content = plugin_content(acc, "hparams")
    if hparams_metadata.SESSION_START_INFO_TAG in content:
        start = hparams_metadata.parse_session_start_info_plugin_data(content[hparams_metadata.SESSION_START_INFO_TAG])
        values = {}
        for name, value in start.hparams.items():
            kind = value.WhichOneof("kind")
            values[name] = getattr(value, kind)
        out["hparams"]["start"] = values
    if hparams_metadata.SESSION_END_INFO_TAG in content:
        end = hparams_metadata.parse_session_end_info_plugin_data(content[hparams_metadata.SESSION_END_INFO_TAG])
        out["hparams"]["end_status"] = end.status
    print(json.dumps(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
