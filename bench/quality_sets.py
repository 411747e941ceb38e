"""The question sets bench/quality.py scores, beyond a plain question file.

- squad-hidden: a SQuAD sample against an index without every 4th article; their questions must be abstained.
- squad-eval: the questions of the 16 `eval` articles of ../shared/data/squad-splits.json (the answer
  model never trained on them), retrieval over all 2,067 SQuAD paragraphs.
- squad2-heldout: SQuAD 2.0's answerable and adversarial unanswerable questions of the SQuAD 2.0
  articles the shipped answer model did not train on (its reader.json lists what it trained on),
  same index: adversarial abstention, measured on articles held out from training.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

HIDE_EVERY = 4  # squad-hidden leaves out every 4th SQuAD article (by title, sorted): 12 of 48


def hide_articles(evalset: Any, every: int = HIDE_EVERY) -> Any:
    """The set with every `every`-th article (by title) left out of the corpus, its questions unanswerable.

    A SQuAD file is `<title>/<paragraph>.txt`; a question whose article is absent must be abstained.
    """
    from newsqa.index.evaluation.sets import EvalSet

    titles = sorted({name.split("/")[0] for name in evalset.corpus})
    hidden = set(titles[::every])
    corpus = {name: text for name, text in evalset.corpus.items() if name.split("/")[0] not in hidden}
    questions = [
        replace(q, unanswerable=True, answers=(), source=None) if q.source.split("/")[0] in hidden else q
        for q in evalset.questions
    ]
    return EvalSet(f"{evalset.name} ({len(hidden)} of {len(titles)} articles hidden)", questions, corpus)


def eval_split(evalset: Any, splits: Path) -> Any:
    """Only the questions of the split's `eval` articles; the corpus stays whole."""
    from newsqa.index.evaluation.sets import EvalSet, squad_file_name

    titles = json.loads(splits.read_text(encoding="utf-8"))["eval"]
    folders = {squad_file_name(t, 0).split("/")[0] for t in titles}
    questions = [q for q in evalset.questions if q.source and q.source.split("/")[0] in folders]
    return EvalSet(f"{evalset.name} eval-split articles ({len(titles)})", questions, evalset.corpus)


def squad2_heldout(evalset: Any, squad2: Path, trained_on: list[str]) -> Any:
    """SQuAD 2.0 questions of the articles not in `trained_on`, over `evalset`'s SQuAD v1.1 corpus."""
    from newsqa.index.evaluation.sets import EvalQuestion, EvalSet

    by_text = {text.split("\n\n", 1)[1].strip(): name for name, text in evalset.corpus.items()}
    questions = []
    held = []
    for article in json.loads(squad2.read_text(encoding="utf-8"))["data"]:
        if article["title"] in trained_on:
            continue
        held.append(article["title"])
        for paragraph in article["paragraphs"]:
            source = by_text[paragraph["context"].strip()]
            for qa in paragraph["qas"]:
                if qa["is_impossible"]:
                    questions.append(EvalQuestion(q=qa["question"], unanswerable=True))
                else:
                    answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                    questions.append(EvalQuestion(q=qa["question"], answers=answers, source=source))
    return EvalSet(f"SQuAD 2.0, held-out articles {', '.join(sorted(held))}", questions, evalset.corpus)
