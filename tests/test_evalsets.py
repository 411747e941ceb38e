from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsqa.index.evaluation.sets import write_corpus

pytestmark = pytest.mark.fast  # no model, no Chroma, no subprocess: `make test-fast`


def test_write_corpus_writes_nested_files_and_rewrites_only_changed_ones(tmp_path: Path):
    folder = write_corpus({"A/000.txt": "one\n", "B/000.txt": "two\n"}, tmp_path / "corpus")
    old = folder / "A" / "000.txt"
    os.utime(old, (1, 1))
    write_corpus({"A/000.txt": "one\n", "B/000.txt": "three\n"}, folder)
    assert old.stat().st_mtime == 1  # unchanged: not rewritten, so an incremental reindex skips it
    assert (folder / "B" / "000.txt").read_text(encoding="utf-8") == "three\n"


def test_right_counts_accepted_answers_and_abstentions_on_unanswerable_questions() -> None:
    from newsqa.index.evaluation.metrics import Outcome, metrics
    from newsqa.index.evaluation.sets import EvalQuestion
    from newsqa.index.types import Answer

    def outcome(q: EvalQuestion, answer: str) -> Outcome:
        return Outcome(q, Answer(q.q, answer, abstained=not answer), 0.1)

    troops = EvalQuestion("How many troops?", answers=("2,500",))
    capital = EvalQuestion("Capital of France?", unanswerable=True)
    report = metrics(
        [
            outcome(troops, "About 2,500 troops."),  # right
            outcome(troops, "Many troops."),  # wrong
            outcome(troops, ""),  # abstained on an answerable question: wrong
            outcome(capital, ""),  # abstained on an unanswerable one: right
            outcome(capital, "Paris."),  # answered it: wrong
        ]
    )
    assert report["right"] == 0.4
    assert report["answer_accuracy"] == round(1 / 3, 4) and report["abstention_recall"] == 0.5
