"""Questions answered from an article's metadata rather than its text: "Who wrote the article about …?".

The article is the one retrieval finds for what follows "about"; the answer names its author (front
matter, sidecar, <meta name="author"> or a "By …" byline, which cleaning keeps out of the quoted
text), its title, outlet and date. An article that names no author is said to.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from newsqa.index.answering.answer import MIN_COVERAGE, Extract, grounded
from newsqa.index.answering.question import Question
from newsqa.index.text.dates import byline
from newsqa.index.types import Citation, Passage

_WHO_WROTE = re.compile(
    r"(?i)^\s*who\s+(?:wrote|authored|penned|reported|is\s+the\s+(?:author|writer|reporter)\s+of)\s+"
    r"(?:the\s+|an?\s+)?(?:article|story|piece|report|news)\s+(?:about|on|that)\s+(?P<topic>.+)$"
)


def author_topic(question: str) -> str | None:
    """What a "who wrote the article about …" question is about, or None for other questions."""
    match = _WHO_WROTE.match(question)
    return match["topic"].strip() if match else None


def author_answer(
    topic: Question, passages: list[Passage], coverage: dict[str, float], article_text: Callable[[str], str]
) -> Extract:
    """The author of the best article about `topic`, from its metadata; abstains when none is about it."""
    found = next(
        (
            p
            for p in passages
            if coverage.get(p.chunk.id, 0.0) >= MIN_COVERAGE and grounded(topic, article_text(p.chunk.source))
        ),
        None,
    )
    if found is None:
        return Extract("", True, [], [])
    cite = Citation.of(1, found, round(found.score, 4))
    told = byline(cite.source_name, cite.published)
    article = f"“{cite.title}”" + (f" ({told})" if told else "")
    answer = f"{cite.author} wrote {article}. [1]" if cite.author else f"{article} names no author. [1]"
    return Extract(answer, False, [cite], [cite.title])
