"""An article page's HTML to its text and metadata, with trafilatura (the only module importing it).

Our own date rules (ingest/dates.py: meta tags, htmldate, the URL) decide the dates, trafilatura's
guess is the fallback; the text then goes through the reader's plain-text cleaning like any corpus
file, when the stored Markdown is indexed.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsqa.index.errors import ExtractError
from newsqa.index.ingest.dates import html_dates, iso

MIN_WORDS = 20  # less than this is a stub, a paywall or an index page, not an article


@dataclass(frozen=True)
class Extracted:
    """What a page holds: the article text (paragraphs separated by blank lines) and its metadata."""

    title: str | None
    text: str
    author: str | None = None
    site: str | None = None
    published: str | None = None
    updated: str | None = None
    canonical: str | None = None  # the page's own <link rel="canonical">, as trafilatura reads it

    @property
    def words(self) -> int:
        return len(self.text.split())


def extract(html: str, url: str) -> Extracted:
    """The article in `html` (fetched from `url`); ExtractError when there is none."""
    import trafilatura

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        favor_precision=True,
        deduplicate=False,
    )
    document = None if document is None else (document if isinstance(document, dict) else document.as_dict())
    text = "" if document is None else (document.get("text") or "")
    paragraphs = [p for p in (" ".join(line.split()) for line in text.split("\n")) if p]
    title = _clean(document.get("title")) if document is not None else None
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]  # the headline printed again above the story
    body = "\n\n".join(paragraphs)
    if document is None or len(body.split()) < MIN_WORDS:
        raise ExtractError(url, f"no article text found (fewer than {MIN_WORDS} words)")
    dates = html_dates(html, url)
    return Extracted(
        title=title,
        text=body,
        author=_clean(document.get("author")),
        site=_clean(document.get("sitename")),
        published=dates.published or iso(document.get("date")),
        updated=dates.updated,
        canonical=_clean(document.get("url")),
    )


def _clean(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None
