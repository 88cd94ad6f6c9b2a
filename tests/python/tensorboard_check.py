"""Reads a run directory's TensorBoard events with TensorBoard's own reader (EventAccumulator,
the one `tensorboard --logdir` used before its Rust data server, with its purge of orphaned
steps) and prints what it found as JSON, for tests/apps/tensorboard_cli_test.cpp and
tests/train/tensorboard_log_test.cpp to compare with metrics.jsonl, the PNGs and config.json.
"table" is the HParams tab's table as the hparams plugin's own backend computes it for
`tensorboard --logdir RUN_DIR`: its metric columns and each session's values. The raw session
records alone do not show it: with the session in RUN_DIR's own run, they were all there and every
metric cell was still empty.

Usage: build-py/venv/bin/python tests/python/tensorboard_check.py RUN_DIR
Exit status 77 (the tests skip) when the tensorboard package is absent.
"""
import hashlib
import json
import os
import sys

try:
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider, event_accumulator, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import api_pb2, backend_context, get_experiment, list_session_groups
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


def hparams_table(logdir):
    """{"metrics": [[group, tag]], "sessions": {run: {tag: [step, value]}}}: the experiment the
    plugin's /experiment route returns and its /session_groups values, over the data provider
    `tensorboard --logdir` gives the plugin (this one reads with the Python multiplexer; the
    plugin's code above it is the same)."""
    mux = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"scalars": 0})
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    tb = base_plugin.TBContext(logdir=logdir, data_provider=data_provider.MultiplexerDataProvider(mux, logdir))
    backend, ctx = backend_context.Context(tb), context.RequestContext()
    experiment = get_experiment.Handler(ctx, backend, "", api_pb2.GetExperimentRequest()).run()
    metrics = [m.name for m in experiment.metric_infos]
    request = api_pb2.ListSessionGroupsRequest(
        start_index=0, slice_size=100, col_params=[api_pb2.ColParams(metric=m) for m in metrics],
        allowed_statuses=[api_pb2.STATUS_UNKNOWN, api_pb2.STATUS_SUCCESS, api_pb2.STATUS_FAILURE,
                          api_pb2.STATUS_RUNNING])
    groups = list_session_groups.Handler(ctx, backend, "", request).run()
    sessions = {s.name: {v.name.tag: [v.training_step, v.value] for v in s.metric_values}
                for g in groups.session_groups for s in g.sessions}
    return {"metrics": [[m.group, m.tag] for m in metrics], "sessions": sessions}


def main(run_dir):
    # 0: keep every event (the defaults sample scalars and keep only 4 images per tag).
    acc = event_accumulator.EventAccumulator(
        run_dir, size_guidance={"scalars": 0, "images": 0, "tensors": 0}, purge_orphaned_data=True)
    acc.Reload()
    tags = acc.Tags()
    out = {"scalars": {}, "images": {}, "text": {}, "hparams": {}, "table": hparams_table(run_dir)}
    for tag in tags["scalars"]:
        out["scalars"][tag] = [[e.step, e.value] for e in acc.Scalars(tag)]
    for tag in tags["images"]:
        out["images"][tag] = [[e.step, e.width, e.height, hashlib.sha256(e.encoded_image_string).hexdigest()]
                              for e in acc.Images(tag)]
    for tag in plugin_content(acc, "text"):
        out["text"][tag] = [[e.step, e.tensor_proto.string_val[0].decode("utf-8")] for e in acc.Tensors(tag)]
    # The session's own records, in its run RUN_DIR/hparams.
    content = {}
    if os.path.isdir(os.path.join(run_dir, "hparams")):
        session = event_accumulator.EventAccumulator(os.path.join(run_dir, "hparams"), size_guidance={"tensors": 0})
        session.Reload()
        content = plugin_content(session, "hparams")
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
