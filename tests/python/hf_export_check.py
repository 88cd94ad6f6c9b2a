#!/usr/bin/env python3
"""Checks that an export's hf/ directory is what transformers and sentence-transformers load,
and that they compute what our TorchScript model.pt computes (run in build-py/venv).

  hf_export_check.py EXPORT_DIR sts   # bi-encoder: SentenceTransformer(hf).encode == model.pt embed, 1e-5
  hf_export_check.py EXPORT_DIR mlm   # BertForMaskedLM.from_pretrained(hf) logits == model.pt, 1e-5
Prints one line with the largest difference; exits 1 when above the tolerance.
"""
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import torch  # noqa: E402
from transformers import AutoTokenizer, BertForMaskedLM  # noqa: E402

SENTENCES = ["a man is playing a guitar .", "Crème brûlée, naïve café!", "the cat sat on the mat ."]


def main():
    export, task = sys.argv[1], sys.argv[2]
    hf = os.path.join(export, "hf")
    ours = torch.jit.load(os.path.join(export, "model.pt"))
    tokenizer = AutoTokenizer.from_pretrained(hf)
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        if task == "sts":
            from sentence_transformers import SentenceTransformer
            theirs = torch.from_numpy(SentenceTransformer(hf, device="cpu").encode(SENTENCES))
            mine = ours.embed(batch["input_ids"], batch["attention_mask"])
        else:
            theirs = BertForMaskedLM.from_pretrained(hf).eval()(**batch).logits
            mine = ours(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            keep = batch["attention_mask"].bool()
            theirs, mine = theirs[keep], mine[keep]
    diff = (theirs - mine).abs().max().item()
    print(f"{task}: max |transformers - ours| = {diff:.2e}")
    sys.exit(0 if diff <= 1e-5 else 1)


if __name__ == "__main__":
    main()
