"""News over time: questions about the present, "as of" leads and figures that differ between sources.

A question about the present ("how many … are", "currently", "still", "now", "latest") is answered
from the newest dated sentence among those that answer it about as well as the best one; undated
sentences come after dated ones. The answer then opens "As of March 2025, …". When dated sources give
different figures for what was asked, each figure is listed with its source and date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from newsqa.index.answering.question import Question
from newsqa.index.text.dates import DATELINE, to_date
from newsqa.index.text.numbers import numbers
from newsqa.index.types import Passage

_PRESENT = re.compile(
    r"(?i)\b(?:currently|current|still|now|nowadays|latest|today|at present|presently|these days)\b"
    r"|\bhow (?:many|much)\b.*\b(?:are|is|does|do|has|have|work|works|live|lives)\b"
)
# Words that open a sentence with a capital only because they open it: "About 2,400 people…".
_SENTENCE_OPENERS = frozenset(
    "a an the about around roughly some nearly almost more fewer over under approximately there its"
    " their this these those".split()
)
MAX_RIVALS = 3  # other figures listed when dated sources disagree
# A sentence answers "about as well" as the best one when it covers this share of what the best covers.
CLOSE_COVERAGE = 0.8


def asks_present(question: str) -> bool:
    """Whether the question asks how things stand now."""
    return bool(_PRESENT.search(question))


def recency(published: str | None) -> str:
    """A sort key: later ISO days sort higher, undated lowest."""
    return published or ""


def as_of(published: str | None, sentence: str) -> str:
    """ "As of March 2025, about 2,400 people work…" for a dated sentence; the sentence itself otherwise."""
    day = to_date(published) if published else None
    if day is None:
        return sentence
    if lede := DATELINE.match(sentence):  # "NORHAVEN, 4 April 2025 (Wire) - A ticket…": the date is said
        sentence = sentence[lede.end() :].strip()
    first, _, rest = sentence.partition(" ")
    if first.lower() in _SENTENCE_OPENERS:
        first = first.lower()
    return f"As of {day:%B %Y}, {first} {rest}".rstrip()


def figures(sentence: str, question: str) -> frozenset[str]:
    """The numbers a sentence states that the question does not."""
    return numbers(sentence) - numbers(question)


def show_figure(figure: str) -> str:
    return f"{int(figure):,}" if figure.isdigit() else figure


def differing(values: list[tuple[frozenset[str], str, int]]) -> str:
    """ "Sources differ: 2,400 (Coastline Daily, 11 Mar 2025 [1]); 3,100 (18 Sep 2023 [2])." from
    (figures, "outlet", citation number) per source, the answer's own first; "" when all agree."""
    shown: list[str] = []
    seen: set[str] = set()
    for found, outlet, n in values:
        fresh = sorted(found - seen)
        if not fresh:
            continue
        seen |= found
        shown.append(f"{' / '.join(show_figure(f) for f in fresh)} ({outlet} [{n}])" if outlet else f"[{n}]")
    return "Sources differ: " + "; ".join(shown) + "." if len(shown) > 1 else ""


class Scored(Protocol):
    """A scored sentence of a passage (answer.Candidate)."""

    @property
    def sentence(self) -> str: ...
    @property
    def passage(self) -> Passage: ...
    @property
    def coverage(self) -> float: ...
    @property
    def fits(self) -> bool: ...


S = TypeVar("S", bound=Scored)


def disagreeing(best: S, ranked: Sequence[S], question: Question) -> list[S]:
    """Dated sentences of other articles that answer a "how many" about as well as `best` but state
    other figures (at most MAX_RIVALS, one per article)."""
    mine = figures(best.sentence, question.text)
    if question.kind != "number" or not best.passage.chunk.published or not mine:
        return []
    found: list[S] = []
    seen = {best.passage.chunk.source}
    for c in ranked:
        source = c.passage.chunk.source
        theirs = figures(c.sentence, question.text)
        if source in seen or not (c.fits and c.passage.chunk.published and theirs) or theirs & mine:
            continue
        if c.coverage >= CLOSE_COVERAGE * best.coverage:
            seen.add(source)
            found.append(c)
    return found[:MAX_RIVALS]
