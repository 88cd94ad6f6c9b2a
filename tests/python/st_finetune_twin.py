#!/usr/bin/env python3
"""Python twin of zoo's bi-encoder fine-tuning step (apps/configs/sts_stsb_minilm_bi.json): the
same model (a sentence-transformers directory), the same loss (sentence-transformers'
CosineSimilarityLoss: MSE between cos(u, v) and score / 5), AdamW 2e-5 with weight decay 0.01 on
non-bias/LayerNorm parameters... as a plain PyTorch loop over STS-B train, batch 16, 2 threads.
Prints the median seconds per step after warm-up, for the benchmark ratio. Run in build-py/venv:

  build-py/venv/bin/python tests/python/st_finetune_twin.py --model pretrained/all-MiniLM-L6-v2 \
      --train ../shared/data/stsb/original/sts-train.csv --steps 60
"""
import argparse
import json
import os
import random
import statistics
import time

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def read_pairs(path):
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            pairs.append((cols[5], cols[6], float(cols[4]) / 5.0))
    return pairs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    random.seed(0)
    model = SentenceTransformer(args.model, device="cpu")
    model.train()
    pairs = read_pairs(args.train)
    random.shuffle(pairs)
    no_decay = ["bias", "LayerNorm"]
    groups = [{"params": [q for n, q in model.named_parameters() if not any(k in n for k in no_decay)],
               "weight_decay": 0.01},
              {"params": [q for n, q in model.named_parameters() if any(k in n for k in no_decay)],
               "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=2e-5)
    times = []
    for step in range(args.warmup + args.steps):
        batch = pairs[(step * args.batch_size) % len(pairs):][:args.batch_size]
        start = time.perf_counter()
        a = model.tokenize([x[0] for x in batch])
        b = model.tokenize([x[1] for x in batch])
        u = model(a)["sentence_embedding"]
        v = model(b)["sentence_embedding"]
        loss = torch.nn.functional.mse_loss(torch.cosine_similarity(u, v), torch.tensor([x[2] for x in batch]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    print(json.dumps({"twin_s_per_step": round(statistics.median(times), 4), "steps": args.steps,
                      "batch_size": args.batch_size, "threads": args.threads}))


if __name__ == "__main__":
    main()
