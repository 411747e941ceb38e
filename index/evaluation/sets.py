"""Question sets for `newsqa eval`: newsqa JSONL, the bot's feedback log, and SQuAD v1.1 JSON.

JSONL lines: {"q": str, "answers": [str], "evidence": [str]} or {"q": str, "unanswerable": true}.
Feedback-log lines ({"question": ..., "vote": "up"|"down", ...}) are read as questions without
gold answers. SQuAD's paragraphs become a corpus of their own (one file per paragraph), and each
question's evidence is its paragraph's file.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from newsqa.index.errors import NewsqaError


class EvalSetError(NewsqaError):
    """A question set cannot be read."""


@dataclass(frozen=True)
class EvalQuestion:
    q: str
    answers: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()  # strings, any of which a cited passage must contain
    source: str | None = None  # or: the file a citation must come from
    unanswerable: bool = False
    vote: str | None = None


@dataclass(frozen=True)
class EvalSet:
    name: str
    questions: list[EvalQuestion]
    corpus: dict[str, str] = field(default_factory=dict)  # file → text, when the set brings its own


def load(path: Path, *, sample: int | None = None, seed: int = 13) -> EvalSet:
    """Read a question set; `sample` picks that many questions with a fixed seed."""
    if not path.is_file():
        raise EvalSetError(f"no question set at {path}")
    evalset = _squad(path) if path.suffix == ".json" else _jsonl(path)
    questions = evalset.questions
    if sample is not None and sample < len(questions):
        questions = random.Random(seed).sample(questions, sample)
    return EvalSet(evalset.name, questions, evalset.corpus)


def _jsonl(path: Path) -> EvalSet:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{path}:{number}: not JSON ({exc.msg})") from None
        text = row.get("q") or row.get("question")
        if not isinstance(text, str) or not text.strip():
            raise EvalSetError(f"{path}:{number}: no question ('q')")
        questions.append(
            EvalQuestion(
                q=text,
                answers=tuple(row.get("answers", ())),
                evidence=tuple(row.get("evidence", ())),
                unanswerable=bool(row.get("unanswerable", False)),
                vote=row.get("vote"),
            )
        )
    return EvalSet(path.stem, questions)


def write_corpus(corpus: dict[str, str], folder: Path) -> Path:
    """Write a set's own corpus as files under `folder`, leaving unchanged files untouched."""
    for file_name, text in corpus.items():
        target = folder / file_name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return folder


def squad_file_name(title: str, number: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")[:60] or "article"
    return f"{slug}/{number:03d}.txt"


def _squad(path: Path) -> EvalSet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise EvalSetError(f"{path} is not a SQuAD v1.1 file ({exc})") from None
    corpus: dict[str, str] = {}
    questions: list[EvalQuestion] = []
    for article in data:
        title = article["title"].replace("_", " ")
        for number, paragraph in enumerate(article["paragraphs"]):
            name = squad_file_name(article["title"], number)
            corpus[name] = f"{title}\n\n{paragraph['context']}\n"
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(EvalQuestion(q=qa["question"], answers=answers, source=name))
    return EvalSet(path.stem, questions, corpus)
