"""Learned answering (ANSWERER=model): the trained reader picks the passage, the short answer and
when to abstain.

The reader (`reader.py`) reads the best reranked passages and finds each one's best answer span.
The passage whose span beats its own "no answer here" score by the most wins: the sentence holding
the span is quoted, the span is the short answer, and other articles whose best span is the same
answer are cited beside it. One calibrated threshold on the probability that nothing read answers
the question decides abstention (chosen on training-split data for abstention precision ≥ 0.9;
docs/answer-model.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from newsqa.index.answering.answer import MAX_ANSWER_CHARS, POINTS_BACK, Extract, grounded
from newsqa.index.answering.question import Question
from newsqa.index.answering.reader import Reader, Reading
from newsqa.index.text.sentences import sentence_pieces
from newsqa.index.text.shorten import shorten
from newsqa.index.types import Citation, Passage

PASSAGES_READ = 4  # reranked passages the reader reads
# A span longer than this is no short answer: the quoted sentence says it all.
SHORT_ANSWER_MAX_CHARS = 120

_WORDS = re.compile(r"\w+")


def extract(
    question: Question, passages: list[Passage], reader: Reader, article_folded: Callable[[str], str]
) -> Extract:
    """The answer the reader finds in the first PASSAGES_READ `passages` whose article names what the
    question names (`article_folded(source)`: the article's folded text), or an abstention."""
    read = [p for p in passages if grounded(question, article_folded(p.chunk.source))][:PASSAGES_READ]
    readings = reader.read(question.text, [p.chunk.text for p in read]) if read else []
    found = sorted(
        ((r, p) for r, p in zip(readings, read, strict=True) if r is not None), key=lambda x: -x[0].margin
    )
    if not found:
        return Extract("", True, [], [])
    best, passage = found[0]
    p_none = reader.p_no_answer(best.margin)
    if p_none >= reader.threshold:
        return Extract("", True, [], [])
    span = passage.chunk.text[best.start : best.end].strip()
    quoted = [(passage, quote(passage.chunk.text, best))]
    # Other articles whose own best span is the same answer are cited beside the best passage.
    sources = {passage.chunk.source}
    for reading, other in found[1:]:
        if other.chunk.source in sources or reader.p_no_answer(reading.margin) >= reader.threshold:
            continue
        if _same_answer(span, other.chunk.text[reading.start : reading.end]):
            sources.add(other.chunk.source)
            quoted.append((other, quote(other.chunk.text, reading)))
    confidence = round(1.0 - p_none, 4)
    citations = [Citation.of(n, p, confidence) for n, (p, _) in enumerate(quoted, 1)]
    sentence = quoted[0][1]
    short = span if 0 < len(span) <= SHORT_ANSWER_MAX_CHARS else None
    # A span that is nearly the whole sentence is not repeated before it.
    lead = short if short and len(short) < 0.8 * len(sentence) else None
    answer = compose(lead, sentence, len(citations))
    return Extract(answer, False, citations, [q for _, q in quoted], short)


def quote(text: str, reading: Reading) -> str:
    """The sentence(s) of `text` holding the span, with the one before when the first points back."""
    pieces = sentence_pieces(text)
    bounds, position = [], 0
    for piece in pieces:
        bounds.append((position, position + len(piece)))
        position += len(piece)
    held = [i for i, (a, b) in enumerate(bounds) if a < reading.end and b > reading.start] or [0]
    first, last = held[0], held[-1]
    if first > 0 and POINTS_BACK.match(pieces[first].strip()):
        first -= 1
    return " ".join(p.strip() for p in pieces[first : last + 1] if p.strip())


def _same_answer(a: str, b: str) -> bool:
    words = _WORDS.findall(a.lower())
    return bool(words) and words == _WORDS.findall(b.lower())


def compose(short: str | None, sentence: str, cited: int) -> str:
    """'Short answer [1] [2] — “sentence”', or the sentence and its markers; at most MAX_ANSWER_CHARS."""
    markers = " ".join(f"[{n}]" for n in range(1, cited + 1))
    if short:
        head = f"{short[0].upper()}{short[1:]} {markers} — “"
        return f"{head}{shorten(sentence, MAX_ANSWER_CHARS - len(head) - 2)}”"
    return f"{shorten(sentence, MAX_ANSWER_CHARS - len(markers) - 2)} {markers}"
