"""Plain data passed between the library and its callers (CLI, bot, benchmarks, tests)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Article:
    """One cleaned corpus file, ready to chunk."""

    source: str  # path relative to the corpus, with forward slashes: the document id
    title: str
    text: str  # cleaned body text (boilerplate removed), without the title line
    sha256: str  # of the raw file bytes
    url: str | None = None
    published: str | None = None  # ISO 8601 day ("2025-03-12"), when the article is dated
    updated: str | None = None  # ISO day of its last update, when later than `published`
    site: str | None = None  # the publication ("source" in front matter)
    author: str | None = None  # front matter/sidecar `author`, <meta name="author">, or a "By X" byline


@dataclass(frozen=True)
class Chunk:
    """A token-bounded piece of an article; `id` is `source#n`."""

    id: str
    source: str
    n: int
    text: str
    title: str
    url: str | None = None
    published: str | None = None  # the article's, ISO day
    updated: str | None = None
    site: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused retrieval score."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_similarity: float | None = None  # cosine, when the dense side found it
    lexical_score: float | None = None  # BM25, when the lexical side found it
    # Near-identical passages of other articles (the same wire story elsewhere), collapsed into this one.
    copies: tuple[Chunk, ...] = ()


def outlet(chunk: Chunk) -> str | None:
    """Who published a chunk's article: its `source`/og:site_name, else its URL's host, else None."""
    host = urlsplit(chunk.url).hostname if chunk.url else None
    return chunk.site or (host.removeprefix("www.") if host else None)


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the passage quoted and the article it comes from."""

    n: int
    source: str
    title: str
    url: str | None
    text: str
    score: float
    published: str | None = None  # the article's ISO day, when dated
    source_name: str | None = None  # the outlet (types.outlet)
    # Other articles carrying the same story (syndicated copies): their outlet, else their source.
    also_reported_by: list[str] = field(default_factory=list)
    author: str | None = None  # the article's, when known

    @classmethod
    def of(cls, n: int, passage: Passage, score: float) -> Citation:
        """Citation `n` of the passage's article, quoting it, naming the outlets of its copies."""
        chunk = passage.chunk
        also = list(dict.fromkeys(outlet(c) or c.source for c in passage.copies))
        return cls(
            n,
            chunk.source,
            chunk.title,
            chunk.url,
            chunk.text,
            score,
            chunk.published,
            outlet(chunk),
            also,
            chunk.author,
        )


@dataclass(frozen=True)
class When:
    """Time settings of one question: the day relative phrases are read against (None: AS_OF, else
    today), and an explicit window (--since/--until) that replaces the question's own."""

    as_of: date | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Period:
    """The time window an answer was restricted to (ISO days, None when open) and its indexed articles."""

    since: str | None
    until: str | None
    phrase: str | None  # as the question said it ("last week"); None for --since/--until
    articles: int  # indexed articles published inside


@dataclass(frozen=True)
class Answer:
    """What `QA.ask` returns; `to_json()` is the public `--json` contract."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    quotes: list[str] = field(default_factory=list)  # the sentences the answer is built from
    short_answer: str | None = None  # the reader's answer span, when a short one answers
    resolved_question: str | None = None  # how a follow-up was read (None: answered as asked)
    # Every passage retrieval ranked for the question, best first (benchmarks score hit@k on it);
    # internal, so not in to_json().
    retrieved: list[Passage] = field(default_factory=list)
    # How the answer was written (not in to_json): "extractive"; "llm" (a verified LLM answer);
    # "llm-fallback" (the LLM failed or nothing it wrote verified, so the extractive answer stands).
    mode: str = "extractive"
    verified: bool = False  # an LLM answer every sentence of which passed citation verification
    period: Period | None = None  # the time window the question named, if any ("window" in to_json)

    @property
    def lead(self) -> str:
        """The short answer the answer text opens with, as written there (for bold display), or ""."""
        short = self.short_answer
        if not short:
            return ""
        lead = short[0].upper() + short[1:]
        return lead if self.answer.startswith(lead + " ") else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "short_answer": self.short_answer,
            "resolved_question": self.resolved_question,
            "citations": [asdict(c) for c in self.citations],
            "window": None if self.period is None else asdict(self.period),
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


@dataclass(frozen=True)
class ReindexSummary:
    """What a reindex did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # files that could not be read, with why
    chunks: int = 0  # chunks in the index afterwards
    embedded: int = 0  # chunks embedded by this run
    seconds: float = 0.0
    generation: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Progress:
    """A reindex progress report: `done` of `total` units of `stage`."""

    # pages fetched (`newsqa add`, a feed refresh), articles chunked, then chunks embedded and written
    stage: Literal["fetching", "chunking", "embedding"]
    done: int
    total: int
