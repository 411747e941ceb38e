"""News over time: questions about the present, "as of" leads and figures that differ between sources.

A question about the present ("how many … are", "currently", "still", "now", "latest") is answered
from the newest dated sentence among those that answer it about as well as the best one; undated
sentences come after dated ones. The answer then opens "As of March 2025, …". When dated sources give
different figures (counts, or years for "when") for what was asked, each is listed with its source
and date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from newsqa.index.answering.question import Question
from newsqa.index.text.dates import DATELINE, to_date
from newsqa.index.text.names import NAME, mentions
from newsqa.index.text.normalise import fold
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
FIGURE_KINDS = frozenset({"number", "date", "person"})  # counts, years and people's names are compared
_YEARS = re.compile(r"\b(?:1[5-9]|20)\d{2}\b")
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


def figures(sentence: str, question: Question) -> frozenset[str]:
    """What a sentence states that a "how many" (its numbers), "when" (its years) or "who" (its names)
    asks for, less what the question itself says."""
    if question.kind == "date":
        return frozenset(_YEARS.findall(sentence)) - frozenset(_YEARS.findall(question.text))
    if question.kind == "person":
        asked = fold(question.text)
        return frozenset(
            m.group(0)
            for m in NAME.finditer(sentence)
            if (m.start() > 0 or " " in m.group(0) or m.end() == len(sentence))  # not a capitalised opener
            and m.group(0).split()[0].lower() not in _SENTENCE_OPENERS
            and not mentions(asked, m.group(0).lower())
        )
    return numbers(sentence) - numbers(question.text)


def same_figure(a: frozenset[str], b: frozenset[str], kind: str) -> bool:
    """Whether two sources state a figure in common: a number or year, or a name (Okafor is Jane Okafor)."""
    if kind == "person":
        return bool({w.lower() for n in a for w in n.split()} & {w.lower() for n in b for w in n.split()})
    return bool(a & b)


def show_figure(figure: str, kind: str) -> str:
    return f"{int(figure):,}" if figure.isdigit() and kind == "number" else figure


def differing(values: list[tuple[str, frozenset[str], str, int]], kind: str) -> str:
    """ "Sources differ: 2,400 (Coastline Daily, 11 Mar 2025 [1]); 3,100 (18 Sep 2023 [2])." from
    (sentence, its figures, "outlet, date", citation number) per source, the answer's own first; each
    source shows the first figure its sentence states; "" when they show the same."""
    shown: list[str] = []
    seen: frozenset[str] = frozenset()
    for sentence, found, told, n in values:
        if not found or same_figure(found, seen, kind):
            continue
        seen |= found
        first = min(found, key=lambda f: _position(sentence, show_figure(f, kind)))
        shown.append(
            f"{show_figure(first, kind)} ({told} [{n}])" if told else f"{show_figure(first, kind)} [{n}]"
        )
    return "Sources differ: " + "; ".join(shown) + "." if len(shown) > 1 else ""


def _position(sentence: str, figure: str) -> int:
    at = sentence.find(figure)
    return at if at >= 0 else len(sentence)


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
    """Dated sentences of other articles that answer a "how many" or "when" about as well as `best`
    but state other figures (at most MAX_RIVALS, one per article)."""
    mine = figures(best.sentence, question)
    if question.kind not in FIGURE_KINDS or not best.passage.chunk.published or not mine:
        return []
    found: list[S] = []
    seen = {best.passage.chunk.source}
    for c in ranked:
        source = c.passage.chunk.source
        theirs = figures(c.sentence, question)
        if source in seen or not (c.fits and c.passage.chunk.published and theirs):
            continue
        if same_figure(theirs, mine, question.kind):
            continue
        if c.coverage >= CLOSE_COVERAGE * best.coverage:
            seen.add(source)
            found.append(c)
    return found[:MAX_RIVALS]
