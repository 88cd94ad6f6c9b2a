#!/usr/bin/python3
"""The Python twin of a zoo masked-LM run: the same recipe in plain PyTorch, for a fixed wall time.

    /usr/bin/python3 scripts/mlm_twin.py RUN_DIR MINUTES [--threads 2] [--out metrics.jsonl]
                                         [--set section.key=value]...

Reads RUN_DIR/config.json (the run's resolved config, with --set overrides as zoo's: the value is
JSON, else a string) and RUN_DIR/vocab.txt, then trains what that config describes with torch
alone (Debian's python3-torch; no transformers):
  - text: data.text_files split into documents at WikiText " = Title = " headings, every k-th
    document held out (k = round(1 / data.val_fraction), as zoo), data.extra_train_files added to
    training; documents packed into [CLS] chunk [SEP] sequences of data.max_seq_len;
  - tokenizer: BERT's basic tokenizer (lower case, accents stripped, punctuation split) and
    greedy longest-match WordPiece over vocab.txt; WikiText's <unk> is [UNK];
  - model: post-LN BERT (or pre-LN with model.norm_first) with model.* sizes and dropouts, MLM
    head (dense, GELU, LayerNorm, decoder tied to the word embeddings) at the masked positions;
  - masking: loss.mask_probability with 80/10/10, validation masks fixed by a seed at
    eval.mask_probability; AdamW (optim.*, no decay on biases and LayerNorm weights), linear
    schedule with schedule.warmup_ratio or warmup_steps, over train.max_steps;
  - train.precision bf16 (or auto on a CPU with avx512_bf16) runs the training forward under
    torch.autocast("cpu", torch.bfloat16), as zoo does;
  - it stops at MINUTES of wall time and evaluates validation perplexity (token-weighted over
    the first data.val_max_sequences sequences) every tenth of it, as JSON lines like zoo's
    metrics.jsonl (step, elapsed_s, perplexity, accuracy), readable by `zoo compare`.
The held-out masks are drawn by this script, not zoo's generator: the targets are the same
articles and rate, not the same positions.
"""
import argparse, json, math, os, random, re, resource, sys, time, unicodedata

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("run_dir")
p.add_argument("minutes", type=float)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--out", default="")
p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.set_flush_denormal(True)
cfg = json.load(open(os.path.join(args.run_dir, "config.json")))
for item in args.set:
    key, eq, value = item.partition("=")
    section, dot, name = key.partition(".")
    if not eq or not dot or section not in cfg or name not in cfg[section]:
        sys.exit(f"mlm_twin: --set {item}: expected SECTION.KEY=VALUE with a key of {args.run_dir}/config.json")
    try:
        cfg[section][name] = json.loads(value)
    except json.JSONDecodeError:
        cfg[section][name] = value
d, m, loss_cfg, ev = cfg["data"], cfg["model"], cfg["loss"], cfg["eval"]
cpu_bf16 = "avx512_bf16" in open("/proc/cpuinfo").read()
precision = cfg["train"].get("precision", "fp32")
autocast = precision == "bf16" or (precision == "auto" and cpu_bf16)
out = open(args.out or os.path.join(args.run_dir, "twin_metrics.jsonl"), "w")

# ---- tokenizer: BERT's basic tokenizer + WordPiece ----
vocab = [l.rstrip("\n") for l in open(os.path.join(args.run_dir, "vocab.txt"), encoding="utf-8")]
ids = {t: i for i, t in enumerate(vocab)}
PAD, UNK, CLS, SEP, MASK = (ids[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"))
special = {PAD, UNK, CLS, SEP, MASK}


def basic_tokens(text):
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    out = []
    for word in text.split():
        out += [t for t in re.split(r"([^\w\s]|_)", word) if t]
    return out


def wordpiece(word):
    if len(word) > 100:
        return [UNK]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in ids:
                break
            end -= 1
        if end == start:
            return [UNK]
        pieces.append(ids[piece])
        start = end
    return pieces


def encode(line):
    out = []
    for chunk in re.split(r"(<unk>|\[MASK\])", line):
        if chunk == "<unk>":
            out.append(UNK)
        elif chunk:
            for w in basic_tokens(chunk):
                out += wordpiece(w)
    return out


def heading_level(line):  # " = Title = " -> 1, " = = Section = = " -> 2, else 0 (as zoo)
    t = line.strip(" \r")
    if len(t) < 3 or t[0] != "=" or t[-1] != "=":
        return 0
    level = 0
    for c in line.lstrip(" "):
        if c not in "= ":
            break
        level += c == "="
    return level


def documents(path):  # zoo's read_text_documents: titles delimit documents, else blank lines
    lines = [l.rstrip("\n").rstrip("\r") for l in open(path, encoding="utf-8-sig")]
    titled = any(heading_level(l) == 1 for l in lines)
    docs = [[]]
    for l in lines:
        level, blank = heading_level(l), not l.strip(" \t\r")
        if (level == 1 if titled else blank) and docs[-1]:
            docs.append([])
        if not blank and level == 0:
            docs[-1].append(l)
    return [x for x in docs if x]


def pack(docs, max_len):
    seqs = []
    for doc in docs:
        toks = [t for para in doc for t in encode(para)]
        for s in range(0, len(toks), max_len - 2):
            chunk = toks[s:s + max_len - 2]
            if len(chunk) >= 8:
                seqs.append([CLS] + chunk + [SEP])
    return seqs


docs = [doc for f in d["text_files"] for doc in documents(f)]
every = max(2, round(1 / d["val_fraction"]))
train_docs = [x for i, x in enumerate(docs) if i % every != every - 1]
val_docs = [x for i, x in enumerate(docs) if i % every == every - 1]
for f in d["extra_train_files"]:
    train_docs += documents(f)
L = d["max_seq_len"]
train_seqs, val_seqs = pack(train_docs, L), pack(val_docs, L)[: d["val_max_sequences"]]
print(f"twin: {len(train_seqs)} training and {len(val_seqs)} validation sequences, bf16 autocast {autocast}",
      file=sys.stderr)


def mask(seq, prob, rng):
    ids_, labels = list(seq), [-100] * len(seq)
    for i, t in enumerate(seq):
        if t in special or rng.random() >= prob:
            continue
        labels[i] = t
        r = rng.random()
        if r < loss_cfg["mask_token_ratio"]:
            ids_[i] = MASK
        elif r < loss_cfg["mask_token_ratio"] + loss_cfg["random_token_ratio"]:
            ids_[i] = rng.randrange(len(vocab))
    return ids_, labels


def collate(pairs):
    n = max(len(x) for x, _ in pairs)
    ids_ = torch.full((len(pairs), n), PAD)
    labels = torch.full((len(pairs), n), -100)
    for i, (x, y) in enumerate(pairs):
        ids_[i, : len(x)] = torch.tensor(x)
        labels[i, : len(y)] = torch.tensor(y)
    return ids_, labels


# ---- model ----
H, NL, NH, FF = m["hidden_size"], m["num_layers"], m["num_heads"], m["intermediate_size"]
V, PRE = len(vocab), m.get("norm_first", False)


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv, self.out = nn.Linear(H, 3 * H), nn.Linear(H, H)
        self.ln1, self.ln2 = nn.LayerNorm(H, eps=1e-12), nn.LayerNorm(H, eps=1e-12)
        self.ff1, self.ff2 = nn.Linear(H, FF), nn.Linear(FF, H)
        self.drop, self.adrop = nn.Dropout(m["hidden_dropout"]), nn.Dropout(m["attention_dropout"])

    def attention(self, x, mask_add):
        b, s, _ = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, NH, H // NH).permute(2, 0, 3, 1, 4)
        probs = self.adrop(F.softmax(q @ k.transpose(-1, -2) / math.sqrt(H // NH) + mask_add, -1))
        return self.drop(self.out((probs @ v).transpose(1, 2).reshape(b, s, H)))

    def forward(self, x, mask_add):
        if PRE:
            x = x + self.attention(self.ln1(x), mask_add)
            return x + self.drop(self.ff2(F.gelu(self.ff1(self.ln2(x)))))
        x = self.ln1(x + self.attention(x, mask_add))
        return self.ln2(x + self.drop(self.ff2(F.gelu(self.ff1(x)))))


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word, self.pos, self.typ = nn.Embedding(V, H), nn.Embedding(m["max_position"], H), nn.Embedding(2, H)
        self.ln, self.drop = nn.LayerNorm(H, eps=1e-12), nn.Dropout(m["hidden_dropout"])
        self.layers = nn.ModuleList(Layer() for _ in range(NL))
        self.final = nn.LayerNorm(H, eps=1e-12) if PRE else nn.Identity()
        self.dense, self.head_ln = nn.Linear(H, H), nn.LayerNorm(H, eps=1e-12)
        self.bias = nn.Parameter(torch.zeros(V))
        for mod in self.modules():
            if isinstance(mod, (nn.Linear, nn.Embedding)):
                nn.init.normal_(mod.weight, std=m["initializer_range"])
            if isinstance(mod, nn.Linear):
                nn.init.zeros_(mod.bias)

    def forward(self, ids_, positions):
        mask_add = ((ids_ == PAD).float() * -1e4)[:, None, None, :]
        x = self.word(ids_) + self.pos(torch.arange(ids_.shape[1]))[None] + self.typ(torch.zeros_like(ids_))
        x = self.drop(self.ln(x))
        for layer in self.layers:
            x = layer(x, mask_add)
        h = self.final(x).reshape(-1, H).index_select(0, positions)
        # float(): under autocast the dense output is bf16 and torch 1.13's layer_norm wants fp32.
        return self.head_ln(F.gelu(self.dense(h)).float()) @ self.word.weight.t() + self.bias


torch.manual_seed(cfg["train"]["seed"])
model = Bert()
o = cfg["optim"]
decay = [p_ for p_ in model.parameters() if p_.dim() > 1]
no_decay = [p_ for p_ in model.parameters() if p_.dim() <= 1]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": o["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
s, T = cfg["schedule"], cfg["train"]["max_steps"]
warmup = s["warmup_steps"] or math.ceil(s["warmup_ratio"] * T)


def lr_at(step):
    if step < warmup:
        return o["lr"] * (step + 1) / warmup
    return o["lr"] * max(0.0, 1 - (step - warmup) / max(1, T - warmup))


vrng = random.Random(d["eval_mask_seed"])
val_batches = [collate([mask(x, ev["mask_probability"], vrng) for x in val_seqs[i:i + ev["batch_size"]]])
               for i in range(0, len(val_seqs), ev["batch_size"])]


def evaluate():
    model.eval()
    nll = count = correct = 0
    with torch.no_grad():
        for ids_, labels in val_batches:
            flat = labels.reshape(-1)
            pos = (flat != -100).nonzero().squeeze(1)
            logits = model(ids_, pos).double()
            nll += F.cross_entropy(logits, flat[pos], reduction="sum").item()
            count += pos.numel()
            correct += (logits.argmax(-1) == flat[pos]).sum().item()
    model.train()
    return math.exp(nll / count), correct / count


rng = random.Random(cfg["train"]["seed"])
B, budget, start = cfg["train"]["batch_size"], args.minutes * 60, time.perf_counter()
next_eval, step, order = budget / 10, 0, []
while True:
    elapsed = time.perf_counter() - start
    if elapsed >= next_eval or elapsed >= budget:
        ppl, acc = evaluate()
        row = {"step": step, "split": "val", "elapsed_s": time.perf_counter() - start, "perplexity": ppl,
               "accuracy": acc, "primary": "perplexity", "is_best": True,
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        out.write(json.dumps(row) + "\n")
        out.flush()
        print(f"twin: step {step} {elapsed / 60:.1f} min perplexity {ppl:.1f} accuracy {acc:.3f}", file=sys.stderr)
        next_eval += budget / 10
        if elapsed >= budget or step >= T:
            break
    if len(order) < B:
        perm = list(range(len(train_seqs)))
        rng.shuffle(perm)
        order += perm
    batch, order = order[:B], order[B:]
    ids_, labels = collate([mask(train_seqs[i], loss_cfg["mask_probability"], rng) for i in batch])
    flat = labels.reshape(-1)
    pos = (flat != -100).nonzero().squeeze(1)
    for g in opt.param_groups:
        g["lr"] = lr_at(step)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        logits = model(ids_, pos)
    loss = F.cross_entropy(logits.float(), flat[pos])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    step += 1
