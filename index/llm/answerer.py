"""LLM answers with verified citations, used by `QA` when an LLM is configured.

Retrieval and the extractive answerer decide first: when they abstain, the LLM is never asked.
Otherwise the LLM gets numbered sources (the passages the extractive answer quotes, then the next
best) and must cite them; `llm.verify` keeps only the sentences their citations support. When
nothing survives, or the server fails, the caller keeps the extractive answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from newsqa.index.answering.answer import MAX_ANSWER_CHARS, Extract
from newsqa.index.answering.conversation import Turn
from newsqa.index.errors import LLMError
from newsqa.index.llm.client import LLMClient, Source, answer_messages
from newsqa.index.llm.verify import MARKER, Verified, markers, sentences, verify
from newsqa.index.text.sentences import cached_sentences
from newsqa.index.text.shorten import shorten
from newsqa.index.text.terms import stems
from newsqa.index.types import Citation, Passage

log = logging.getLogger(__name__)

LLM_SOURCES = 5  # passages shown to the LLM
_ENDS_SENTENCE = frozenset(".!?]\n")


@dataclass(frozen=True)
class Written:
    """A verified LLM answer, or `ok=False` when the extractive answer must stand."""

    ok: bool
    answer: str = ""
    citations: tuple[Citation, ...] = ()
    quotes: tuple[str, ...] = ()
    verified: bool = False  # every sentence the LLM wrote passed verification
    seconds: float = 0.0


def pick_sources(extracted: Extract, passages: Sequence[Passage], n: int = LLM_SOURCES) -> list[Source]:
    """The passages the extractive answer quotes first, then the best of the rest, numbered from 1."""
    by_text = {(p.chunk.source, p.chunk.text): p for p in passages}
    first = [by_text[(c.source, c.text)] for c in extracted.citations if (c.source, c.text) in by_text]
    chosen: list[Passage] = []
    for p in [*first, *passages]:
        if p.chunk.id not in {c.chunk.id for c in chosen}:
            chosen.append(p)
    return [Source(i + 1, p) for i, p in enumerate(chosen[:n])]


def fit(verified: Verified, limit: int = MAX_ANSWER_CHARS) -> str:
    """The verified text within `limit` characters: whole sentences, else the first one cut short."""
    parts = sentences(verified.text)
    text = ""
    for part in parts:
        candidate = f"{text} {part}".strip()
        if len(candidate) > limit:
            break
        text = candidate
    if text or not parts:
        return text
    marks = " ".join(m.group(0).strip() for m in MARKER.finditer(parts[0]))
    claim = MARKER.sub("", parts[0]).strip()
    room = limit - len(marks) - 2
    return f"{shorten(claim, room)} {marks}"  # the claim is longer than `room` here


def _quote(passage_text: str, claims: str) -> str:
    """The passage sentence that shares most words with the claims citing it."""
    wanted = set(stems(claims))
    options = cached_sentences(passage_text) or (passage_text,)
    return max(options, key=lambda s: len(wanted & set(stems(s))))


class LLMAnswerer:
    """Writes, verifies and (when asked) streams an LLM answer; never raises for server failures."""

    def __init__(self, client: LLMClient) -> None:
        self.client = client

    def condense(self, turns: Sequence[Turn], message: str, limit: int) -> str | None:
        """`message` as a standalone question given the chat's `turns`; None when the LLM fails."""
        try:
            return self.client.condense(turns, message, limit)
        except LLMError as exc:
            log.warning("LLM condense failed, using the rule-based follow-up: %s", exc)
            return None

    def write(
        self,
        question: str,
        extracted: Extract,
        passages: Sequence[Passage],
        *,
        max_sources: int | None = None,
        stream: bool = False,
    ) -> Iterator[str | Written]:
        """Yield the verified text so far (when streaming), then one `Written`."""
        started = time.perf_counter()
        sources = pick_sources(extracted, passages)
        support = {s.n: s.support for s in sources}
        messages = answer_messages(question, sources)
        try:
            if stream:
                text, done, boundary = "", 0, False
                for delta in self.client.stream(messages):
                    text += delta
                    boundary = boundary or bool(_ENDS_SENTENCE.intersection(delta))
                    parts = sentences(text) if boundary else []
                    complete = parts[:-1]  # the last one may still grow
                    if len(complete) <= done:
                        continue
                    done, boundary = len(complete), bool(_ENDS_SENTENCE.intersection(parts[-1]))
                    partial = fit(verify(" ".join(complete), support, max_sources))
                    if partial:
                        yield partial
            else:
                text = self.client.complete(messages)
        except LLMError as exc:
            log.warning("LLM answer failed, answering extractively: %s", exc)
            yield Written(ok=False, seconds=time.perf_counter() - started)
            return
        verified = verify(text, support, max_sources)
        for sentence, why in verified.dropped:
            log.info("dropped an LLM sentence (%s): %.200s", why, sentence)
        if not verified.kept:
            log.warning("no sentence of the LLM answer verified; answering extractively")
            yield Written(ok=False, seconds=time.perf_counter() - started)
            return
        answer = fit(verified)
        by_n = {s.n: s.passage for s in sources}
        citations, quotes = [], []
        shown = set(markers(answer))  # fit() may have cut the last sentences, and their sources
        for new, old in enumerate(verified.cited, 1):
            if new not in shown:
                continue
            chunk = by_n[old].chunk
            claims = " ".join(s for s in sentences(answer) if f"[{new}]" in s)
            citations.append(Citation.of(new, by_n[old], round(by_n[old].score, 4)))
            quotes.append(_quote(chunk.text, claims))
        yield Written(
            True,
            answer,
            tuple(citations),
            tuple(quotes),
            verified.fully_verified,
            time.perf_counter() - started,
        )
