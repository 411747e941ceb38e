"""An RSS 0.9x/1.0/2.0 or Atom document to its entries, with feedparser (the only module importing it).

feedparser only parses here: the bytes come from `fetch.Fetcher`, so its own fetching (and the
safety rules it would skip) is never used. An entry's stable id is its guid (`<guid>`, `<id>`),
else its link.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from xml.sax import SAXException

from newsqa.index.errors import FeedError


@dataclass(frozen=True)
class Entry:
    """One feed item: its stable id, the article's link and what the feed says about it."""

    id: str
    link: str | None
    title: str | None = None
    published: str | None = None  # ISO day
    updated: str | None = None  # ISO day


@dataclass(frozen=True)
class Feed:
    title: str | None
    entries: tuple[Entry, ...]
    problem: str | None = None  # a recoverable XML error: the entries read despite it


def parse_feed(body: bytes, url: str, content_type: str = "application/xml") -> Feed:
    """The feed in `body` (fetched from `url`); FeedError when it is none."""
    import feedparser

    parsed = feedparser.parse(body, response_headers={"content-location": url, "content-type": content_type})
    problem = None
    error = parsed.get("bozo_exception")
    if parsed.get("bozo") and isinstance(error, SAXException):  # not a charset or media type remark
        problem = " ".join(str(error).split())[:200]
    version = parsed.get("version") or ""
    entries = tuple(entry for item in parsed.get("entries", []) if (entry := _entry(item)) is not None)
    if not version and not entries:
        raise FeedError(url, f"not an RSS or Atom feed ({problem or 'no feed elements found'})")
    if problem and not entries:
        raise FeedError(url, f"broken feed XML ({problem})")
    title = " ".join(str(parsed.get("feed", {}).get("title") or "").split()) or None
    return Feed(title=title, entries=entries, problem=problem)


def _entry(item: dict) -> Entry | None:  # type: ignore[type-arg]
    link = str(item.get("link") or "").strip() or None
    stable = str(item.get("id") or "").strip() or link
    if not stable:
        return None
    title = " ".join(str(item.get("title") or "").split()) or None
    return Entry(
        id=stable,
        link=link,
        title=title,
        # dict.get: feedparser's own get() answers a missing date with the other one, and warns
        published=_day(dict.get(item, "published_parsed")),
        updated=_day(dict.get(item, "updated_parsed")),
    )


def _day(parsed: time.struct_time | None) -> str | None:
    if not parsed:
        return None
    return f"{parsed.tm_year:04d}-{parsed.tm_mon:02d}-{parsed.tm_mday:02d}"
