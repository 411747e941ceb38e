"""Experiment (issue #19, approach 1): a cross-encoder that scores (question, sentence) pairs, against
the shipped reader, at finding the sentence that answers. Not shipped; measures only.

    python bench/sentence_ranker.py [--epochs 1] [--negatives 3] [--baselines]

Same data and seed as bench/train_answerer.py (`--fold a`): trained on the 20 "others" articles
and fold A's answerable SQuAD 2.0 questions; measured on the 4 validation articles (SQuAD train
split, never trained on; the eval articles are never read). For each answerable question, its
paragraph's sentences (newsqa's splitter): the one holding the answer is the positive; up to
`--negatives` other sentences of the paragraph and one sentence of the best BM25 paragraph of another
place are the negatives. MiniLM-L6 with a one-logit head, binary cross-entropy.

Measured, per validation question over its own paragraph: does the top-scored sentence hold an
accepted answer (case-folded, as `newsqa eval` scores)? Against the shipped reader's span sentence
(what newsqa quotes first), the best-covering sentence, and pairs (newsqa quotes two). Writes
bench/results/sentence-ranker/{train.log, figures.json}
(`--baselines`: figures-baselines.json).
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

from train_answerer import (
    SHARED,
    Bm25,
    Trainer,
    base_dir,
    base_tokenizer,
    load,
    logger,
    paragraphs,
    plan,
    training_questions,
)

from newsqa.index.answering.answer import STRICT_KINDS, candidates, term_weights
from newsqa.index.answering.question import analyse
from newsqa.index.answering.reader import Reader
from newsqa.index.retrieval.lexical import LexicalIndex
from newsqa.index.text.sentences import sentence_pieces
from newsqa.index.types import Chunk, Passage

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "sentence-ranker"
MAX_TOKENS = 128


def spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, sentence) of each non-blank sentence of `text`."""
    out, position = [], 0
    for piece in sentence_pieces(text):
        if piece.strip():
            out.append((position, position + len(piece), piece.strip()))
        position += len(piece)
    return out


def build(titles, articles, squad2, rng, negatives: int):
    """(question, sentence, label) training pairs."""
    paras, owner = paragraphs(titles, articles, squad2)
    index = {o: n for n, o in enumerate(owner)}
    bm = Bm25(paras)
    pairs = []
    for t, pi, ctx, q, start, text in training_questions(titles, articles, squad2):
        if start is None:
            continue
        sents = spans(ctx)
        end = start + len(text)
        pos = [s for s in sents if s[0] < end and s[1] > start]
        neg = [s for s in sents if s not in pos]
        if not pos:
            continue
        pairs.append((q, pos[0][2], 1.0))
        for s in rng.sample(neg, min(negatives, len(neg))):
            pairs.append((q, s[2], 0.0))
        gold = index[(t, pi)]
        for n in bm.top(q, 3):
            if n != gold and text.lower() not in paras[n].lower():
                pairs.append((q, rng.choice(spans(paras[n]))[2], 0.0))
                break
    return pairs


def encode(tok, batch):
    import torch

    encs = [tok.encode(q, s) for q, s, _ in batch]
    width = max(len(e.ids) for e in encs)
    ids = torch.zeros((len(encs), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for r, e in enumerate(encs):
        n = len(e.ids)
        ids[r, :n] = torch.tensor(e.ids)
        types[r, :n] = torch.tensor(e.type_ids)
        mask[r, :n] = 1
    return ids, types, mask


def train(tok, pairs, args, log):
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    model = BertForSequenceClassification.from_pretrained(str(base_dir()), num_labels=1)
    rng = random.Random(args.seed)
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]) + 40 * rng.random())
    chunks = [order[i : i + args.batch] for i in range(0, len(order), args.batch)]
    trainer = Trainer(model, args.lr, len(chunks) * args.epochs, log, every=50)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    for _ in range(args.epochs):
        rng.shuffle(chunks)
        for idx in chunks:
            batch = [pairs[i] for i in idx]
            ids, types, mask = encode(tok, batch)
            logits = model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits[:, 0]
            trainer.step(loss_fn(logits, torch.tensor([b[2] for b in batch])))
    model.eval()
    return model


def holds(sentence: str, answers: list[str]) -> bool:
    """An accepted answer in the sentence, case-folded: how `newsqa eval` scores an answer."""
    return any(a.lower() in sentence.lower() for a in answers)


def measure(tok, model, titles, articles, log):
    """Per question over its own paragraph: does the quoted sentence hold an accepted answer? For the
    cross-encoder's top sentence(s) (when `model` is given), the reader's span sentence, the
    best-covering sentence by newsqa's coverage measure, and the pairs newsqa could quote."""
    import torch

    reader = Reader()
    contexts = [p["context"] for t in titles for p in articles[t]["paragraphs"]]
    lexical = LexicalIndex(contexts)
    counts: dict[str, int] = {"questions": 0}

    def count(name: str, sentences: list[str], answers: list[str]) -> None:
        counts[name] = counts.get(name, 0) + any(holds(s, answers) for s in sentences)

    for t in titles:
        for p in articles[t]["paragraphs"]:
            sents = spans(p["context"])
            chunk = Chunk(f"{t}#0", t, 0, p["context"], t.replace("_", " "))
            for qa in p["qas"]:
                answers = [a["text"] for a in qa["answers"]]
                q = qa["question"]
                reading = reader.read(q, [p["context"]])[0]
                mine = [s[2] for s in sents if reading and s[0] < reading.end and s[1] > reading.start]
                question = analyse(q)
                ranked = candidates(question, [Passage(chunk, 0.0)], term_weights(question, lexical))
                if question.kind in STRICT_KINDS:
                    ranked = [c for c in ranked if c.fits]
                covering = [ranked[0].sentence] if ranked else []
                counts["questions"] += 1
                count("reader span sentence", mine, answers)
                count("best-covering sentence", covering, answers)
                count("reader + best-covering (shipped)", mine + covering, answers)
                if model is not None:
                    with torch.no_grad():
                        ids, types, mask = encode(tok, [(q, s[2], 0.0) for s in sents])
                        logits = model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits
                    scores = logits[:, 0].tolist()
                    top = [sents[i][2] for i in sorted(range(len(sents)), key=lambda i: -scores[i])]
                    count("ranker top-1", top[:1], answers)
                    count("ranker top-2", top[:2], answers)
                    count("reader + ranker top-1", mine + top[:1], answers)
        log(f"measured {t}: {json.dumps(counts)}")
    n = counts.pop("questions")
    return {"questions": n, **{k: round(v / n, 4) for k, v in counts.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument(
        "--baselines", action="store_true", help="measure the reader and coverage only, no training"
    )
    ap.add_argument("--limit", type=int, default=0, help="this many pairs only (smoke test)")
    ap.add_argument("--negatives", type=int, default=3, help="other sentences of the paragraph per question")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    log = logger(OUT / "train.log")
    tok = base_tokenizer()
    tok.enable_truncation(MAX_TOKENS)
    articles, squad2 = load(SHARED)
    parts = plan(articles, squad2, args.seed)
    model = None
    if not args.baselines:
        titles = sorted(set(parts["others"]) | set(parts["fold_a"]))
        pairs = build(titles, articles, squad2, random.Random(args.seed), args.negatives)
        if args.limit:
            pairs = pairs[: args.limit]
        log(
            f"{len(pairs)} pairs ({sum(1 for p in pairs if p[2])} positive), "
            f"{math.ceil(len(pairs) / args.batch)} steps an epoch"
        )
        model = train(tok, pairs, args, log)
    validation = parts["validation"][:1] if args.limit else parts["validation"]
    figures = measure(tok, model, validation, articles, log)
    result = {"args": vars(args), "validation": figures}
    log(json.dumps(result))
    name = "figures-baselines.json" if args.baselines else "figures.json"
    (OUT / name).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
