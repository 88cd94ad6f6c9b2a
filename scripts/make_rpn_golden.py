#!/usr/bin/python3
"""Writes tests/fixtures/rpn_golden.json: torchvision 0.14's region proposal network on small,
deterministic cases, for the parity tests tests/models/rpn_golden_test.cpp and
tests/losses/rpn_loss_test.cpp.

Run with the Debian Python that has torch 1.13 and torchvision 0.14:
    /usr/bin/python3 scripts/make_rpn_golden.py

Inputs are quantised (features to 1/32, weights to 1/1024) so the JSON holds them exactly; float
outputs are written with 9 significant digits, which round-trips float32.

Cases:
  batch    two images of different sizes padded into one 160 x 208 batch, a 16-channel 10 x 13
           map, anchors 32/64/128 x 0.5/1/2. Image 0's boxes: one equal to an anchor (IoU 1), one
           whose best IoU ties on four anchors, a 2.5 x 1.75 px box (ties among the small
           anchors that contain it), boxes touching the left/bottom and the right image border.
           Image 1 has no boxes. The loss uses a fixed sample (recorded), imposed on
           torchvision by replacing its fg_bg_sampler. Reduced top-n values.
  defaults torchvision's FasterRCNN RPN parameters (anchors 128/256/512, top-n 2000/1000, ...) on
           a small 8-channel 6 x 8 map of two images that both have boxes. The sample is the
           one torchvision's own sampler draws after torch.manual_seed(seed) (recorded).
"""
import json
import os

import torch
import torchvision
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead
from torchvision.ops import box_iou

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "rpn_golden.json")


def f9(x):
    return float("%.9g" % x)


def floats(t):
    return [f9(v) for v in t.detach().reshape(-1).tolist()]


def ints(t):
    return [int(v) for v in t.reshape(-1).tolist()]


def tensor_json(t, exact=False):
    data = t.reshape(-1).tolist() if exact else floats(t)
    return {"shape": list(t.shape), "data": data}


def quantised_normal(shape, std, step, gen):
    return torch.round(torch.randn(shape, generator=gen) * std / step) * step


def build(case):
    gen = torch.Generator().manual_seed(case["seed"])
    o = case["options"]
    n = len(case["image_sizes"])
    h, w = case["feature_hw"]
    c = o["in_channels"]
    a = len(o["sizes"]) * len(o["aspect_ratios"])
    features = quantised_normal((n, c, h, w), 1.0, 1 / 32, gen)
    head = RPNHead(c, a)
    stds = {"conv.0.0.weight": 0.05, "conv.0.0.bias": 0.05, "cls_logits.weight": 0.1,
            "cls_logits.bias": 0.1, "bbox_pred.weight": 0.05, "bbox_pred.bias": 0.02}
    state = {k: quantised_normal(v.shape, stds[k], 1 / 1024, gen) for k, v in head.state_dict().items()}
    head.load_state_dict(state)
    ag = AnchorGenerator(sizes=(tuple(o["sizes"]),), aspect_ratios=(tuple(o["aspect_ratios"]),))
    rpn = RegionProposalNetwork(
        ag, head, o["fg_iou_thresh"], o["bg_iou_thresh"], o["batch_size_per_image"],
        o["positive_fraction"],
        dict(training=o["pre_nms_top_n_train"], testing=o["pre_nms_top_n_test"]),
        dict(training=o["post_nms_top_n_train"], testing=o["post_nms_top_n_test"]),
        o["nms_thresh"], o["score_thresh"])
    assert rpn.min_size == o["min_size"]
    images = ImageList(torch.zeros(n, 3, *case["padded_size"]), [tuple(s) for s in case["image_sizes"]])
    feats = {"0": features}
    targets = [{"boxes": torch.tensor(b, dtype=torch.float32).reshape(-1, 4)} for b in case["gt_boxes"]]
    return rpn, images, feats, targets, features, state


def masks_from(sample, labels):
    pos, neg = [], []
    for (p, q), l in zip(sample, labels):
        pm = torch.zeros_like(l, dtype=torch.uint8)
        nm = torch.zeros_like(l, dtype=torch.uint8)
        pm[torch.tensor(p, dtype=torch.long)] = 1
        nm[torch.tensor(q, dtype=torch.long)] = 1
        pos.append(pm)
        neg.append(nm)
    return pos, neg


def indices_of(masks):
    return [ints(torch.where(m)[0]) for m in masks]


def run_case(case):
    rpn, images, feats, targets, features, state = build(case)
    out = {k: case[k] for k in ("name", "options", "padded_size", "image_sizes", "gt_boxes")}
    out["features"] = tensor_json(features, exact=True)
    out["head"] = {k: tensor_json(v, exact=True) for k, v in state.items()}

    with torch.no_grad():
        anchors = rpn.anchor_generator(images, list(feats.values()))
    assert all(torch.equal(anchors[0], x) for x in anchors)
    assert torch.equal(anchors[0], anchors[0].round())
    out["anchors"] = {"shape": list(anchors[0].shape), "data": ints(anchors[0].long())}

    labels, matched_boxes = rpn.assign_targets_to_anchors(anchors, targets)
    out["labels"] = [ints(l.long()) for l in labels]
    matched = []
    ties = 0
    for t, anc in zip(targets, anchors):
        if t["boxes"].numel() == 0:
            matched.append(None)  # torchvision defines no index here; ours is all -1
            continue
        q = box_iou(t["boxes"], anc)
        ties += int(((q == q.max(1, keepdim=True)[0]).sum(1) > 1).sum())
        matched.append(ints(rpn.proposal_matcher(q)))
    assert ties > 0 or not case.get("expect_ties"), "the case is meant to contain IoU ties"
    out["matched_idxs"] = matched
    reg = rpn.box_coder.encode(matched_boxes, anchors)
    # Targets of background-only images are -inf/garbage in torchvision (never read): left out.
    out["regression_targets"] = [None if t["boxes"].numel() == 0 else floats(r)
                                 for t, r in zip(targets, reg)]

    # Training step with the case's sample, recorded from inside compute_loss.
    seen = {}
    if case.get("sampler_seed") is None:
        fixed = case["choose_sample"](labels)
        rpn.fg_bg_sampler = lambda ls: masks_from(fixed, ls)
    else:
        real = rpn.fg_bg_sampler

        def spy(ls):
            p, q = real(ls)
            seen["sample"] = list(zip(indices_of(p), indices_of(q)))
            return p, q

        rpn.fg_bg_sampler = spy
        torch.manual_seed(case["sampler_seed"])
    original_loss = rpn.compute_loss

    def recording_loss(objectness, deltas, ls, regs):
        seen["objectness"], seen["deltas"] = objectness.detach(), deltas.detach()
        return original_loss(objectness, deltas, ls, regs)

    rpn.compute_loss = recording_loss
    rpn.train()
    boxes, losses = rpn(images, feats, targets)
    if case.get("sampler_seed") is None:
        sample = fixed
    else:
        sample = seen["sample"]
        out["sampler_seed"] = case["sampler_seed"]
    out["sample"] = [{"positive": list(p), "negative": list(q)} for p, q in sample]

    # The sampled rows alone, in compute_loss's order (positives then negatives, batch-flat,
    # ascending), for the loss test.
    t = anchors[0].shape[0]
    pos = torch.tensor([i * t + j for i, (p, _) in enumerate(sample) for j in p], dtype=torch.long)
    neg = torch.tensor([i * t + j for i, (_, q) in enumerate(sample) for j in q], dtype=torch.long)
    rows = torch.cat([pos, neg])
    flat_labels = torch.cat(labels)
    flat_reg = torch.cat(reg)
    out["sampled"] = {
        "num_positive": len(pos),
        "objectness": floats(seen["objectness"].flatten()[rows]),
        "deltas": floats(seen["deltas"][rows]),
        "labels": ints(flat_labels[rows].long()),
        "regression_targets": floats(flat_reg[pos]),  # positives only: the rest is never read
    }
    out["loss_objectness"] = f9(losses["loss_objectness"].item())
    out["loss_rpn_box_reg"] = f9(losses["loss_rpn_box_reg"].item())
    out["train_proposals"] = {"boxes": [floats(b) for b in boxes]}

    # Eval mode: proposals and their scores (filter_proposals is where the scores live).
    rpn.eval()
    with torch.no_grad():
        objectness, deltas = rpn.head(list(feats.values()))
        n_per_level = [o[0].numel() for o in objectness]
        objectness, deltas = torchvision.models.detection.rpn.concat_box_prediction_layers(objectness, deltas)
        proposals = rpn.box_coder.decode(deltas, anchors).view(len(anchors), -1, 4)
        eb, es = rpn.filter_proposals(proposals, objectness, images.image_sizes, n_per_level)
        ref, _ = rpn(images, feats)
    assert all(torch.equal(x, y) for x, y in zip(eb, ref))
    out["eval_proposals"] = {"boxes": [floats(b) for b in eb], "scores": [floats(s) for s in es]}
    # Train-mode scores, for completeness of the train proposals.
    rpn.train()
    with torch.no_grad():
        tb, ts = rpn.filter_proposals(proposals, objectness, images.image_sizes, n_per_level)
    assert all(torch.equal(x, y) for x, y in zip(tb, boxes))
    out["train_proposals"]["scores"] = [floats(s) for s in ts]
    return out


def choose_batch_sample(labels):
    """Image 0: every positive and 40 negatives; image 1: 30 negatives (seeded choice)."""
    gen = torch.Generator().manual_seed(11)
    sample = []
    for l, k in zip(labels, (40, 30)):
        pos = torch.where(l == 1)[0]
        neg = torch.where(l == 0)[0]
        neg = neg[torch.randperm(neg.numel(), generator=gen)[:k]].sort()[0]
        sample.append((ints(pos), ints(neg)))
    return sample


TV_DEFAULTS = dict(sizes=[128, 256, 512], aspect_ratios=[0.5, 1.0, 2.0], fg_iou_thresh=0.7,
                   bg_iou_thresh=0.3, batch_size_per_image=256, positive_fraction=0.5,
                   pre_nms_top_n_train=2000, pre_nms_top_n_test=1000, post_nms_top_n_train=2000,
                   post_nms_top_n_test=1000, nms_thresh=0.7, score_thresh=0.0, min_size=1e-3)

CASES = [
    dict(name="batch", seed=1, feature_hw=(10, 13), padded_size=[160, 208],
         image_sizes=[[150, 208], [160, 170]],
         options=dict(TV_DEFAULTS, in_channels=16, sizes=[32, 64, 128], pre_nms_top_n_train=2000,
                      pre_nms_top_n_test=300, post_nms_top_n_train=60, post_nms_top_n_test=40),
         gt_boxes=[[[32, 48, 96, 112],            # = an anchor (size 64, ratio 1): IoU 1
                    [8, 40, 72, 104],             # best IoU 0.62 on four anchors (tie)
                    [100.5, 20.25, 103, 22],      # tiny
                    [0, 100, 40, 150],            # touches the left and bottom border
                    [150, 10, 208, 60]],          # touches the right border
                   []],
         expect_ties=True, choose_sample=choose_batch_sample),
    dict(name="defaults", seed=2, feature_hw=(6, 8), padded_size=[96, 128],
         image_sizes=[[96, 128], [80, 100]],
         options=dict(TV_DEFAULTS, in_channels=8),
         gt_boxes=[[[10, 20, 100, 80], [60, 10, 120, 90]], [[0, 0, 50, 40]]],
         sampler_seed=1234),
]


def main():
    torch.set_num_threads(1)
    cases = [run_case(c) for c in CASES]
    doc = {"generator": "scripts/make_rpn_golden.py", "torch": torch.__version__,
           "torchvision": torchvision.__version__, "cases": cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(OUT, os.path.getsize(OUT), "bytes")
    for c in cases:
        print(c["name"], "loss", c["loss_objectness"], c["loss_rpn_box_reg"], "positives",
              [len(s["positive"]) for s in c["sample"]], "negatives",
              [len(s["negative"]) for s in c["sample"]], "eval proposals",
              [len(b) // 4 for b in c["eval_proposals"]["boxes"]], "train proposals",
              [len(b) // 4 for b in c["train_proposals"]["boxes"]])


if __name__ == "__main__":
    main()
