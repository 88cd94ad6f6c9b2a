#!/usr/bin/env python3
"""What torch.jit.optimize_for_inference changes in a vision export's outputs (issue #30).

HandPose and RegionProposals run their model optimised (BatchNorm folded into the convolutions,
oneDNN convolutions). This runs an export's model.pt as exported and optimised on real images
and prints how far the outputs move. It is the same LibTorch function zoo::infer calls.

  scripts/optimize_cost.py EXPORT_DIR IMAGE [IMAGE ...]

keypoints/heatmap: each image resized to the model's square input (PIL bilinear; any realistic
input does for a comparison); prints the largest coordinate difference in the model's units.
rpn: each image resized to min_size/max_size as meta.json says and padded; prints the largest
box difference in pixels, the largest score difference, and on how many images the number or
the order of the kept proposals differs (NMS decisions flipped by rounding).
"""
import json
import sys

import numpy as np
import torch
from PIL import Image


def normalised(image, width, height, meta_input):
    rgb = np.asarray(image.convert("RGB").resize((width, height), Image.BILINEAR), dtype=np.float32) / 255
    mean, std = np.array(meta_input["mean"], np.float32), np.array(meta_input["std"], np.float32)
    return torch.from_numpy(((rgb - mean) / std).transpose(2, 0, 1).copy())


def main():
    export, paths = sys.argv[1], sys.argv[2:]
    meta = json.load(open(f"{export}/meta.json"))
    torch.manual_seed(0)
    exported = torch.jit.load(f"{export}/model.pt").eval()
    optimized = torch.jit.optimize_for_inference(torch.jit.load(f"{export}/model.pt").eval())
    task, largest, scores, flips = meta["task"], 0.0, 0.0, 0
    with torch.inference_mode():
        for path in paths:
            image = Image.open(path)
            if task in ("keypoints", "heatmap"):
                side = meta["input"]["image_size"]
                x = normalised(image, side, side, meta["input"])[None]
                a, b = exported(x), optimized(x)
                if task == "heatmap":
                    a, b = a[0], b[0]
                largest = max(largest, (a - b).abs().max().item())
            else:
                i = meta["input"]
                scale = min(i["min_size"] / min(image.size), i["max_size"] / max(image.size))
                w, h = round(image.width * scale), round(image.height * scale)
                pad = i["size_divisible"]
                x = torch.zeros(1, 3, (h + pad - 1) // pad * pad, (w + pad - 1) // pad * pad)
                x[0, :, :h, :w] = normalised(image, w, h, i)
                sizes = torch.tensor([[h, w]])
                (ba, sa, na), (bb, sb, nb) = exported(x, sizes), optimized(x, sizes)
                if na.item() != nb.item():
                    flips += 1
                    continue
                n = na.item()
                box_diff = (ba[0, :n] - bb[0, :n]).abs().max().item()
                if box_diff > 1:  # a different box in the same place of the ranking
                    flips += 1
                    continue
                largest = max(largest, box_diff)
                scores = max(scores, (sa[0, :n] - sb[0, :n]).abs().max().item())
    print(json.dumps({"task": task, "images": len(paths), "max_abs_diff": largest, "max_score_diff": scores,
                      "images_with_other_proposals": flips, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
