"""What adding URLs and refreshing feeds did: one result per page and per feed, and the summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from newsqa.index.text.shorten import shorten
from newsqa.index.types import ReindexSummary

TITLE_CHARS = 90


@dataclass(frozen=True)
class PageResult:
    """What became of one article URL: added, updated, unchanged, or failed (with the reason)."""

    url: str
    status: str
    source: str | None = None  # the article's file, relative to the corpus (its document id)
    canonical: str | None = None
    title: str | None = None
    published: str | None = None
    site: str | None = None
    words: int = 0
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def line(self) -> str:
        """One line for a terminal or a log."""
        if not self.ok:
            return f"failed {self.url}: {self.reason}"
        when = f", {self.published}" if self.published else ""
        title = shorten(self.title or "(no title)", TITLE_CHARS)
        return f"{self.status} {self.url}: {title}{when}, {self.words:,} words"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FeedResult:
    """What a refresh read from one feed."""

    url: str
    title: str | None = None
    entries: int = 0  # entries in the feed now
    not_modified: bool = False  # the server said so (conditional GET)
    reason: str | None = None  # why it failed, or what was wrong with its XML

    @property
    def ok(self) -> bool:
        return self.reason is None or self.entries > 0

    def line(self) -> str:
        if not self.ok:
            return f"failed feed {self.url}: {self.reason}"
        note = " (not modified)" if self.not_modified else ""
        warn = f"; warning: {self.reason}" if self.reason else ""
        return f"feed {self.url}: {self.title or '(no title)'}, {self.entries} entries{note}{warn}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


@dataclass(frozen=True)
class WebSummary:
    """What `newsqa add` or a feed refresh did: each page, each feed, the pruned files, the reindex."""

    pages: list[PageResult] = field(default_factory=list)
    feeds: list[FeedResult] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    reindex: ReindexSummary | None = None

    def count(self, status: str) -> int:
        return sum(1 for page in self.pages if page.status == status)

    @property
    def failures(self) -> list[str]:
        return [f.line() for f in self.feeds if not f.ok] + [p.line() for p in self.pages if not p.ok]

    def to_json(self) -> dict[str, Any]:
        return {
            "pages": [p.to_json() for p in self.pages],
            "feeds": [f.to_json() for f in self.feeds],
            "pruned": list(self.pruned),
            "reindex": None if self.reindex is None else self.reindex.to_json(),
        }
