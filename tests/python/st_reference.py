#!/usr/bin/env python3
"""sentence-transformers reference for zoo's pretrained sentence encoders (run in build-py/venv,
made by scripts/setup_python_refs.sh; the model comes from scripts/fetch_pretrained.sh).

Modes:
  st_reference.py --model DIR --sentences FILE --out OUT.json
      FILE: UTF-8, one sentence per line. OUT.json: {"token_ids": [[int]] (the tokenizer's ids,
      [CLS] ... [SEP], truncated at model.max_seq_length), "token_embeddings": [[[float]]] (last
      hidden state of the real tokens only), "sentence_embeddings": [[float]] (encode(), i.e.
      after the model's own pooling and normalization)}.
  st_reference.py --model DIR --stsb FILE
      Zero-shot STS-B: cosine of the two sentence embeddings vs the gold score over an
      original/sts-*.csv style TSV; prints {"pearson": ..., "spearman": ..., "n": ...}.

Runs on CPU in float32, the setting the C++ side is compared against.
"""
import argparse
import json
import os

# The model is a local directory; never let a missing file turn into a silent Hub download.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def dump_embeddings(model, sentences_path, out_path):
    with open(sentences_path, encoding="utf-8") as f:
        sentences = [line.rstrip("\n") for line in f]
    # One sentence per tokenize() call: no padding, so the ids are exactly the real tokens.
    token_ids = [model.tokenize([s])["input_ids"][0].tolist() for s in sentences]
    # output_value="token_embeddings" already drops padding positions per sentence.
    tokens = model.encode(sentences, output_value="token_embeddings")
    pooled = model.encode(sentences, convert_to_numpy=True)
    for ids, t in zip(token_ids, tokens):
        assert len(ids) == t.shape[0], (len(ids), t.shape)
    with open(out_path, "w") as f:
        json.dump({"token_ids": token_ids,
                   "token_embeddings": [t.tolist() for t in tokens],
                   "sentence_embeddings": pooled.tolist()}, f)


def stsb(model, path):
    gold, first, second = [], [], []
    # TAB-separated, no quoting (sentences contain literal quotes); some rows carry 2 extra
    # licence columns, so index rather than unpack.
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            gold.append(float(cols[4]))
            first.append(cols[5])
            second.append(cols[6])
    a = model.encode(first, convert_to_numpy=True)
    b = model.encode(second, convert_to_numpy=True)
    # Explicit cosine (not a dot product) so the result holds for models without Normalize.
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    print(json.dumps({"pearson": round(float(stats.pearsonr(cos, gold)[0]), 6),
                      "spearman": round(float(stats.spearmanr(cos, gold)[0]), 6),
                      "n": len(gold)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--sentences")
    parser.add_argument("--out")
    parser.add_argument("--stsb")
    args = parser.parse_args()
    model = SentenceTransformer(args.model, device="cpu")
    if args.stsb:
        stsb(model, args.stsb)
    elif args.sentences and args.out:
        dump_embeddings(model, args.sentences, args.out)
    else:
        parser.error("give --stsb FILE, or --sentences FILE --out OUT.json")


if __name__ == "__main__":
    main()
