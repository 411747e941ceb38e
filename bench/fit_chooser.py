"""Fit the learned chooser (index/answering/chooser.py) on training-split questions; seeded.

    python bench/fit_chooser.py [--install] [--refresh] [--no-bbc] [--squad2]

Data: every question of the 4 `validation` articles of the shipped reader (reader.json; SQuAD
train-split articles the reader never trained on), asked against bench/quality.py's SQuAD index (all
2,067 dev paragraphs; written and indexed here when missing). Each question is asked
twice: as is (answerable) and with its own article's passages taken out of what retrieval found
(the article is missing: "not in my sources"). The eval articles are never read.

1. The passage model: a softmax over each question's read passages, "this one holds a gold answer".
2. The answer model: logistic regression, per question, "the chosen passage holds the answer".
3. The threshold: the answer probability below which newsqa abstains, for abstention precision
   ≥ 0.9 on the 1:1 mix of answerable and missing-article questions.

Features and figures are checked by 2-fold cross-validation over the articles first, then fitted on
all four. Writes bench/results/chooser/ (rows and figures); --install writes
index/answering/model/chooser.json.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import numpy as np

from newsqa.index.answering.chooser import ANSWER_FEATURES, PASSAGE_FEATURES, Scored, answer_features

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OUT = ROOT / "bench" / "results" / "chooser"
INDEX = ROOT / "bench" / "results" / "cache" / "squad"
# BBC News indexed as bench/perf.py does (corpus copy00/<topic>/<n>.txt); built on first use.
BBC_CACHE = ROOT / "bench" / "results" / "cache" / "bbc"
BBC_QUESTIONS = ROOT / "bench" / "sets" / "bbc-train.jsonl"
SQUAD2 = SHARED / "data" / "squad2-train-articles.json"
SEED = 13
PRECISION = 0.9
L2 = 1.0


@functools.cache
def squad_qa():
    """A QA over bench/quality.py's SQuAD index (all 2,067 dev paragraphs), written and indexed here
    when it is missing or was built with another embedding model (an incremental reindex otherwise)."""
    from newsqa.index.config import Settings
    from newsqa.index.evaluation.sets import load, write_corpus
    from newsqa.index.retrieval.registry import make_embedder
    from newsqa.index.service import QA

    corpus = write_corpus(load(SHARED / "data" / "squad-dev-v1.1.json").corpus, INDEX / "corpus")
    settings = Settings(corpus_dir=corpus, index_dir=INDEX / "newsqa", answerer="rules")
    qa = QA(settings, embedder=make_embedder("minilm"))
    qa.reindex()
    return qa


def collect() -> list[dict]:
    """Feature rows of every validation question, asked as is and with its article missing."""
    from newsqa.index.answering import learned
    from newsqa.index.answering.reader import Reader
    from newsqa.index.evaluation.sets import squad_file_name

    reader = Reader()
    titles = json.loads((reader.model_dir / "reader.json").read_text())["validation"]
    squad = json.loads((SHARED / "data" / "squad-dev-v1.1.json").read_text())["data"]
    qa = squad_qa()
    rows = []
    asked = [
        (a["title"], qa_["question"], [x["text"] for x in qa_["answers"]])
        for a in squad
        if a["title"] in titles
        for p in a["paragraphs"]
        for qa_ in p["qas"]
    ]
    for n, (title, question, answers) in enumerate(asked, 1):
        info, passages, snapshot = qa.passages(question)
        folder = squad_file_name(title, 0).split("/")[0]
        for missing in (False, True):
            shown = [p for p in passages if not (missing and p.chunk.source.split("/")[0] == folder)]
            scored = learned.score(
                info, shown, reader, snapshot.article_text, snapshot.lexical, snapshot.chunks.span
            )
            rows.append(
                {
                    "title": title,
                    "q": question,
                    "missing": missing,
                    "entities": len(info.entities),
                    "features": [list(s.features) for s in scored],
                    "holds": [
                        any(a.lower() in s.passage.chunk.text.lower() for a in answers) and not missing
                        for s in scored
                    ],
                }
            )
        if n % 50 == 0:
            print(f"{n}/{len(asked)} questions", file=sys.stderr, flush=True)
    return rows


def collect_bbc() -> list[dict]:
    """Feature rows of the informally typed questions we wrote over BBC News (bench/sets/bbc-train.jsonl):
    answerable ones as is and with their article missing, look-alikes as is (nothing answers them)."""
    import shutil

    from newsqa.index.answering import learned
    from newsqa.index.answering.reader import Reader
    from newsqa.index.config import Settings
    from newsqa.index.retrieval.registry import make_embedder
    from newsqa.index.service import QA

    corpus = BBC_CACHE / "corpus" / "copy00"
    if not corpus.is_dir():
        shutil.copytree(SHARED / "data" / "bbc-news", corpus)
    settings = Settings(corpus_dir=BBC_CACHE / "corpus", index_dir=BBC_CACHE / "index", answerer="rules")
    qa = QA(settings, embedder=make_embedder("minilm"))
    qa.reindex()  # incremental: nothing when current; whole when built with another embedding model
    reader = Reader()
    rows = []
    asked = [json.loads(line) for line in BBC_QUESTIONS.read_text().splitlines() if line.strip()]
    for n, item in enumerate(asked, 1):
        info, passages, snapshot = qa.passages(item["q"])
        source = f"copy00/{item['source']}"
        answerable = bool(item.get("answers"))
        for missing in (False, True) if answerable else (True,):
            shown = [p for p in passages if not (missing and answerable and p.chunk.source == source)]
            scored = learned.score(
                info, shown, reader, snapshot.article_text, snapshot.lexical, snapshot.chunks.span
            )
            rows.append(
                {
                    "title": f"bbc/{item['source']}",
                    "q": item["q"],
                    "missing": missing,
                    "entities": len(info.entities),
                    "features": [list(s.features) for s in scored],
                    "holds": [
                        _holds(item, s.passage.chunk.text, s.passage.chunk.source == source) and not missing
                        for s in scored
                    ],
                }
            )
        if n % 50 == 0:
            print(f"BBC {n}/{len(asked)} questions", file=sys.stderr, flush=True)
    return rows


def collect_squad2() -> list[dict]:
    """Feature rows of the SQuAD 2.0 questions of the articles the reader trained on (fold A), asked as
    is: answerable ones, and adversarial look-alikes that nothing answers. The held-out fold (what
    `bench/quality.py --set squad2-heldout` measures) is never read."""
    from newsqa.index.answering import learned
    from newsqa.index.answering.reader import Reader

    reader = Reader()
    trained_on = set(reader.trained_on)
    qa = squad_qa()
    asked = [
        (a["title"], item["question"], [x["text"] for x in item["answers"]], bool(item.get("is_impossible")))
        for a in json.loads(SQUAD2.read_text())["data"]
        if a["title"] in trained_on
        for p in a["paragraphs"]
        for item in p["qas"]
    ]
    rows = []
    for n, (title, question, answers, impossible) in enumerate(asked, 1):
        info, passages, snapshot = qa.passages(question)
        scored = learned.score(
            info, passages, reader, snapshot.article_text, snapshot.lexical, snapshot.chunks.span
        )
        rows.append(
            {
                "title": f"squad2/{title}",
                "q": question,
                "missing": impossible,
                "kind": "lookalike" if impossible else "answerable",
                "entities": len(info.entities),
                "features": [list(s.features) for s in scored],
                "holds": [
                    not impossible and any(a.lower() in s.passage.chunk.text.lower() for a in answers)
                    for s in scored
                ],
            }
        )
        if n % 100 == 0:
            print(f"SQuAD 2.0 {n}/{len(asked)} questions", file=sys.stderr, flush=True)
    return rows


def _holds(item: dict, text: str, from_source: bool) -> bool:
    """A passage holds the answer: an accepted answer, in its own article or beside the evidence."""
    text = text.lower()
    answers = [a.lower() for a in item.get("answers", [])]
    evidence = [e.lower() for e in item.get("evidence", [])]
    return any(a in text for a in answers) and (from_source or any(e in text for e in evidence))


def fit(x: np.ndarray, y: np.ndarray) -> dict:
    """L2-regularised logistic regression by Newton's method on standardised features."""
    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales < 1e-6] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - means) / scales])
    w = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * L2
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ w))
        gradient = z.T @ (p - y) + penalty @ w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return {
        "weights": w[1:].tolist(),
        "bias": float(w[0]),
        "means": means.tolist(),
        "scales": scales.tolist(),
    }


def predict(model: dict, x: np.ndarray) -> np.ndarray:
    z = (x - np.array(model["means"])) / np.array(model["scales"]) @ np.array(model["weights"])
    return 1 / (1 + np.exp(-(z + model["bias"])))


def softmax_scores(model: dict, x: np.ndarray) -> np.ndarray:
    """The passage model's probabilities over one question's read passages."""
    z = (x - np.array(model["means"])) / np.array(model["scales"]) @ np.array(model["weights"])
    e = np.exp(z - z.max())
    return e / e.sum()


def fit_passages(rows: list[dict], steps: int = 400, rate: float = 0.5) -> dict:
    """Conditional logit (a softmax over each question's read passages) for "this one holds the
    answer", by gradient descent with an L2 penalty; questions whose read passages hold no answer are
    left out. Chosen over a per-passage logistic by 2-fold cross-validation (hit@1 +0.4 to +1.2)."""
    keep = [r for r in rows if not r["missing"] and any(r["holds"])]
    xs = [np.array(r["features"]) for r in keep]
    targets = [np.array(r["holds"], dtype=float) / sum(r["holds"]) for r in keep]
    stacked = np.vstack(xs)
    means, scales = stacked.mean(axis=0), stacked.std(axis=0)
    scales[scales < 1e-6] = 1.0
    zs = [(x - means) / scales for x in xs]
    w = np.zeros(stacked.shape[1])
    for _ in range(steps):
        gradient = L2 * w
        for z, t in zip(zs, targets, strict=True):
            s = z @ w
            e = np.exp(s - s.max())
            gradient += z.T @ (e / e.sum() - t)
        w -= rate * gradient / len(zs)
    return {"weights": w.tolist(), "bias": 0.0, "means": means.tolist(), "scales": scales.tolist()}


def answer_rows(rows: list[dict], passage_model: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per question: the answer features of the chosen passage, whether it holds the answer, answerable."""
    x, y, answerable = [], [], []
    for r in rows:
        if not r["features"]:
            continue
        p = softmax_scores(passage_model, np.array(r["features"])).tolist()
        chosen = int(np.argmax(p))
        scored = [Scored(None, None, None, tuple(f)) for f in r["features"]]  # type: ignore[arg-type]
        x.append(answer_features(r["entities"], scored, p, chosen))
        y.append(float(r["holds"][chosen]))
        answerable.append(not r["missing"])
    return np.array(x), np.array(y), np.array(answerable)


def threshold(p_right: np.ndarray, answerable: np.ndarray) -> tuple[float, float, float]:
    """The highest-recall abstention threshold with precision ≥ PRECISION: (threshold, precision,
    recall)."""
    best = (0.0, 1.0, 0.0)
    for th in np.unique(np.round(p_right, 4)):
        abstain = p_right < th
        if not abstain.any():
            continue
        precision = float(np.mean(~answerable[abstain]))
        recall = float(np.mean(abstain[~answerable]))
        if precision >= PRECISION and recall > best[2]:
            best = (float(th), precision, recall)
    return best


def figures(rows: list[dict], model: dict) -> dict:
    """hit@1 and accuracy-like figures of a fitted chooser on `rows`, against rank-first and margin-first."""
    answerable = [r for r in rows if not r["missing"] and r["features"]]
    total = len([r for r in rows if not r["missing"]])
    chosen = [int(np.argmax(softmax_scores(model["passage"], np.array(r["features"])))) for r in answerable]
    column = PASSAGE_FEATURES.index("margin")
    margin_first = [int(np.argmax([f[column] for f in r["features"]])) for r in answerable]

    def hit(picks: list[int]) -> float:
        return round(sum(r["holds"][c] for r, c in zip(answerable, picks, strict=True)) / total, 4)

    x, y, ans = answer_rows(rows, model["passage"])
    p_right = predict(model["answer"], x)
    abstain = p_right < model["threshold"]
    return {
        "questions": total,
        "hit@1 chooser": hit(chosen),
        "hit@1 retrieval first": hit([0] * len(answerable)),
        "hit@1 reader margin": hit(margin_first),
        "answered right (chooser, abstaining)": round(float(np.sum(y[ans] * ~abstain[ans])) / total, 4),
        "false abstention": round(float(np.mean(abstain[ans])), 4),
        "missing-article abstention recall": _recall(rows, abstain, "missing"),
        "look-alike abstention recall": _recall(rows, abstain, "lookalike"),
        "abstention precision": round(float(np.mean(~ans[abstain])) if abstain.any() else 1.0, 4),
    }


def _group(title: str) -> str:
    """Which collection a row's title comes from: "bbc", "squad2" (fold A) or "squad" (validation)."""
    return title.split("/")[0] if title.startswith(("bbc/", "squad2/")) else "squad"


def _recall(rows: list[dict], abstain: np.ndarray, kind: str) -> float | None:
    """Abstention recall over the rows of one kind of unanswerable question (None when there are none)."""
    kinds = np.array([_kind(r) for r in rows if r["features"]])
    chosen = kinds == kind
    return round(float(np.mean(abstain[chosen])), 4) if chosen.any() else None


def _kind(row: dict) -> str:
    return row.get("kind") or ("missing" if row["missing"] else "answerable")


def fit_all(rows: list[dict]) -> dict:
    passage = fit_passages(rows)
    x, y, ans = answer_rows(rows, passage)
    answer = fit(x, y)
    th, _, _ = threshold(predict(answer, x), ans)
    return {"passage": passage, "answer": answer, "threshold": th}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--install", action="store_true", help="write index/answering/model/chooser.json")
    parser.add_argument("--refresh", action="store_true", help="recollect the feature rows")
    parser.add_argument("--no-bbc", action="store_true", help="leave out the BBC questions we wrote")
    parser.add_argument(
        "--squad2", action="store_true", help="add the SQuAD 2.0 questions (look-alikes too) of fold A"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    cached = OUT / "rows.json"
    if args.refresh or not cached.is_file():
        cached.write_text(json.dumps(collect()))
    rows = json.loads(cached.read_text())
    if not args.no_bbc:
        cached_bbc = OUT / "rows-bbc.json"
        if args.refresh or not cached_bbc.is_file():
            cached_bbc.write_text(json.dumps(collect_bbc()))
        rows += json.loads(cached_bbc.read_text())
    if args.squad2:
        cached_squad2 = OUT / "rows-squad2.json"
        if args.refresh or not cached_squad2.is_file():
            cached_squad2.write_text(json.dumps(collect_squad2()))
        rows += json.loads(cached_squad2.read_text())
    titles = sorted({r["title"] for r in rows})
    groups = {prefix: [t for t in titles if _group(t) == prefix] for prefix in ("squad", "squad2", "bbc")}
    rng = np.random.default_rng(SEED)
    for group in groups.values():
        rng.shuffle(group)
    folds = [{t for g in groups.values() for t in g[half::2]} for half in (0, 1)]
    report: dict = {"cross_validated": {}}
    for held in folds:
        model = fit_all([r for r in rows if r["title"] not in held])
        named = sorted(t for t in held if _group(t) != "bbc")
        name = f"held out {named} and {len(held & set(groups['bbc']))} BBC articles"
        report["cross_validated"][name] = {
            "all": figures([r for r in rows if r["title"] in held], model),
            **{
                g: figures([r for r in rows if r["title"] in held and _group(r["title"]) == g], model)
                for g, group in groups.items()
                if group
            },
        }
    model = fit_all(rows)
    report["fitted_on_all"] = figures(rows, model)
    report["model"] = model
    (OUT / "figures.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "model"}, indent=1))
    if args.install:
        target = ROOT / "index" / "answering" / "model" / "chooser.json"
        meta = {
            "fitted_on": sorted(groups["squad"] + groups["squad2"]),
            "fitted_on_bbc_questions": str(BBC_QUESTIONS.relative_to(ROOT)) if groups["bbc"] else None,
            "passage_features": PASSAGE_FEATURES,
            "answer_features": ANSWER_FEATURES,
            "precision_target": PRECISION,
            "recipe": "python bench/fit_chooser.py --install (seed 13, L2 1.0)",
        }
        target.write_text(json.dumps({**meta, **model}, indent=1) + "\n")
        from train_answerer import pin

        print(f"installed {target.relative_to(ROOT)} (sha256 {pin('CHOOSER_SHA256', target)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
