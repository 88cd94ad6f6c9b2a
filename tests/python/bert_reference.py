#!/usr/bin/python3
"""Independent plain-PyTorch reference for zoo's mini-BERT (no transformers needed).

Modes:
  bert_reference.py OUTDIR
      Writes a random small BERT in Hugging Face BertForMaskedLM layout: OUTDIR/config.json,
      OUTDIR/pytorch_model.bin (state dict), OUTDIR/inputs.pt (input_ids with padding,
      attention_mask, token_type_ids) and OUTDIR/expected.pt ({"logits": [B, T, V]}).
  bert_reference.py forward CONFIG WEIGHTS INPUTS OUT
      Reference logits for a given HF-layout checkpoint (e.g. one saved by zoo) -> OUT.
  bert_reference.py run-torchscript MODEL INPUTS OUT
      Runs a TorchScript module exported by zoo on INPUTS -> OUT ({"logits": ...}).

The forward below is written from HF's modeling_bert.py semantics (post-LN encoder, exact erf
GELU, additive mask of finfo.min, MLM head tied to the word embeddings) and computes in float64,
so float32 implementations are compared against something more exact than either.
"""
import collections
import json
import math
import os
import sys

import torch


def reference_logits(config, sd, input_ids, attention_mask, token_type_ids):
    sd = {k: v.double() for k, v in sd.items()}
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    eps = config["layer_norm_eps"]
    norm_first = config.get("zoo_norm_first", False)
    d = hidden // heads
    batch, seq_len = input_ids.shape

    def norm(x, name):
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + eps) * sd[name + ".weight"] + sd[name + ".bias"]

    def dense(x, name):
        return x @ sd[name + ".weight"].t() + sd[name + ".bias"]

    def gelu(x):
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))

    e = "bert.embeddings."
    positions = torch.arange(seq_len)
    x = (sd[e + "word_embeddings.weight"][input_ids]
         + sd[e + "position_embeddings.weight"][positions][None]
         + sd[e + "token_type_embeddings.weight"][token_type_ids])
    x = norm(x, e + "LayerNorm")
    bias = (1.0 - attention_mask.double())[:, None, None, :] * torch.finfo(torch.float64).min

    def split(t):
        return t.view(batch, seq_len, heads, d).permute(0, 2, 1, 3)

    for i in range(config["num_hidden_layers"]):
        p = "bert.encoder.layer.%d." % i
        # zoo's pre-LN variant (config "zoo_norm_first"): each sublayer normalises its input,
        # the residual stream is not normalised, one final LayerNorm after the last layer.
        y = norm(x, p + "attention.output.LayerNorm") if norm_first else x
        q = split(dense(y, p + "attention.self.query"))
        k = split(dense(y, p + "attention.self.key"))
        v = split(dense(y, p + "attention.self.value"))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + bias
        probs = torch.softmax(scores, dim=-1)
        context = (probs @ v).permute(0, 2, 1, 3).reshape(batch, seq_len, hidden)
        if norm_first:
            x = x + dense(context, p + "attention.output.dense")
            x = x + dense(gelu(dense(norm(x, p + "output.LayerNorm"), p + "intermediate.dense")), p + "output.dense")
            continue
        x = norm(dense(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        ffn = dense(gelu(dense(x, p + "intermediate.dense")), p + "output.dense")
        x = norm(ffn + x, p + "output.LayerNorm")
    if norm_first:
        x = norm(x, "bert.encoder.final_layer_norm")

    t = "cls.predictions.transform."
    y = norm(gelu(dense(x, t + "dense")), t + "LayerNorm")
    return y @ sd[e + "word_embeddings.weight"].t() + sd["cls.predictions.bias"]


def make_fixture(outdir):
    torch.manual_seed(1234)
    config = {
        "architectures": ["BertForMaskedLM"], "model_type": "bert", "vocab_size": 53,
        "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
        "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 24, "type_vocab_size": 2,
        "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
        "position_embedding_type": "absolute", "transformers_version": "4.30.0",
    }
    h, ffn, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    # OrderedDict as in nn.Module.state_dict(); values large enough that every term matters.
    sd = collections.OrderedDict()
    e = "bert.embeddings."

    def rand(*shape, scale=0.3):
        return torch.randn(*shape) * scale

    def add_norm(name):
        sd[name + ".weight"] = 1.0 + rand(h, scale=0.1)
        sd[name + ".bias"] = rand(h, scale=0.1)

    sd[e + "position_ids"] = torch.arange(config["max_position_embeddings"])[None]
    sd[e + "word_embeddings.weight"] = rand(vocab, h)
    sd[e + "position_embeddings.weight"] = rand(config["max_position_embeddings"], h)
    sd[e + "token_type_embeddings.weight"] = rand(config["type_vocab_size"], h)
    add_norm(e + "LayerNorm")
    for i in range(config["num_hidden_layers"]):
        p = "bert.encoder.layer.%d." % i
        for name, (rows, cols) in [("attention.self.query", (h, h)), ("attention.self.key", (h, h)),
                                   ("attention.self.value", (h, h)),
                                   ("attention.output.dense", (h, h)),
                                   ("intermediate.dense", (ffn, h)), ("output.dense", (h, ffn))]:
            sd[p + name + ".weight"] = rand(rows, cols, scale=1.0 / math.sqrt(cols))
            sd[p + name + ".bias"] = rand(rows, scale=0.1)
            if name == "attention.output.dense":
                add_norm(p + "attention.output.LayerNorm")
        add_norm(p + "output.LayerNorm")
    sd["cls.predictions.transform.dense.weight"] = rand(h, h, scale=1.0 / math.sqrt(h))
    sd["cls.predictions.transform.dense.bias"] = rand(h, scale=0.1)
    add_norm("cls.predictions.transform.LayerNorm")
    sd["cls.predictions.bias"] = rand(vocab, scale=0.1)
    # Tied, exactly as HF's state_dict() has them: the same tensors under a second name.
    sd["cls.predictions.decoder.weight"] = sd[e + "word_embeddings.weight"]
    sd["cls.predictions.decoder.bias"] = sd["cls.predictions.bias"]
    # nn.Module.state_dict() attaches this; real checkpoints carry it in the pickle.
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("bert", {"version": 1})])

    lengths = [9, 5, 7]
    seq_len = max(lengths)
    input_ids = torch.randint(1, vocab, (len(lengths), seq_len))
    attention_mask = torch.zeros(len(lengths), seq_len, dtype=torch.long)
    for row, n in enumerate(lengths):
        attention_mask[row, :n] = 1
    input_ids[attention_mask == 0] = config["pad_token_id"]
    token_type_ids = torch.zeros_like(input_ids)
    token_type_ids[:, 4:] = 1
    token_type_ids[attention_mask == 0] = 0

    logits = reference_logits(config, sd, input_ids, attention_mask, token_type_ids)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    torch.save(sd, os.path.join(outdir, "pytorch_model.bin"))
    torch.save({"input_ids": input_ids, "attention_mask": attention_mask,
                "token_type_ids": token_type_ids}, os.path.join(outdir, "inputs.pt"))
    torch.save({"logits": logits.float()}, os.path.join(outdir, "expected.pt"))


def forward(config_path, weights_path, inputs_path, out_path):
    with open(config_path) as f:
        config = json.load(f)
    # weights_only=True: the restricted unpickler transformers uses (PyTorch >= 2.6 default).
    sd = torch.load(weights_path, weights_only=True)
    inputs = torch.load(inputs_path, weights_only=True)
    logits = reference_logits(config, sd, inputs["input_ids"], inputs["attention_mask"],
                              inputs["token_type_ids"])
    torch.save({"logits": logits.float()}, out_path)


def run_torchscript(model_path, inputs_path, out_path):
    module = torch.jit.load(model_path)
    module.eval()
    inputs = torch.load(inputs_path, weights_only=True)
    with torch.no_grad():
        logits = module(inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"])
    torch.save({"logits": logits}, out_path)


def main(argv):
    if len(argv) == 2:
        make_fixture(argv[1])
    elif len(argv) == 6 and argv[1] == "forward":
        forward(*argv[2:])
    elif len(argv) == 5 and argv[1] == "run-torchscript":
        run_torchscript(*argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
