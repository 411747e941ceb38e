"""Question sets for `newsqa eval`: newsqa JSONL, the bot's feedback log, and SQuAD v1.1 JSON.

JSONL lines: {"q": str, "answers": [str], "evidence": [str]} or {"q": str, "unanswerable": true}; or a
conversation, {"turns": [such questions…]}, whose turns are asked in order in one chat so that a
follow-up is read in the context of the turns before it.
Feedback-log lines ({"question": ..., "vote": "up"|"down", ...}) are read as questions without
gold answers. SQuAD's paragraphs become a corpus of their own (one file per paragraph), and each
question's evidence is its paragraph's file.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

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
    conversation: int | None = None  # the conversation (line number) this question is a turn of
    turn: int = 0  # its place in the conversation: 0 is the first question, 1… are follow-ups


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
    conversations = sorted({q.conversation for q in questions if q.conversation is not None})
    if conversations and sample is not None and sample < len(conversations):
        kept = set(random.Random(seed).sample(conversations, sample))  # whole conversations
        questions = [q for q in questions if q.conversation in kept]
    elif sample is not None and sample < len(questions):
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
        turns = row.get("turns") if isinstance(row, dict) else None
        if turns is None:
            questions.append(_question(row, path, number))
            continue
        if not isinstance(turns, list) or not turns:
            raise EvalSetError(f"{path}:{number}: 'turns' must be a list of questions")
        for i, turn in enumerate(turns):
            questions.append(replace(_question(turn, path, number), conversation=number, turn=i))
    return EvalSet(path.stem, questions)


def _question(row: Any, path: Path, number: int) -> EvalQuestion:
    text = row.get("q") or row.get("question") if isinstance(row, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise EvalSetError(f"{path}:{number}: no question ('q')")
    return EvalQuestion(
        q=text,
        answers=tuple(row.get("answers", ())),
        evidence=tuple(row.get("evidence", ())),
        unanswerable=bool(row.get("unanswerable", False)),
        vote=row.get("vote"),
    )


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
