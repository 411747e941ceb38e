"""Chunks as records: ids `source#n@version` (version = a prefix of the article's sha256), metadata, and
the text both retrievers index."""

from __future__ import annotations

from typing import Any

from newsqa.index.text.dates import day_number, to_date
from newsqa.index.types import Chunk

UNDATED = 0  # `published_day` of an undated chunk: below every real day, so `$gte` filters skip it


def chunk_id(source: str, n: int) -> str:
    """A chunk's stable id: `source#n`."""
    return f"{source}#{n}"


def record_id(source: str, n: int, version: str) -> str:
    """The id chunk `n` of version `version` of `source` is stored under: `source#n@version`."""
    return f"{chunk_id(source, n)}@{version}"


def version_of(record: str) -> str:
    return record.rpartition("@")[2]


def source_of(record: str) -> str:
    return record.rpartition("@")[0].rpartition("#")[0]


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "source": chunk.source,
        "n": chunk.n,
        "title": chunk.title,
        "url": chunk.url or "",
        "published": chunk.published or "",
        "updated": chunk.updated or "",
        "site": chunk.site or "",
        "author": chunk.author or "",
        "published_day": published_day(chunk.published),
    }


def published_day(published: str | None) -> int:
    """The day number (20250312) a chunk is filtered on; UNDATED without a date."""
    day = to_date(published) if published else None
    return UNDATED if day is None else day_number(day)


def chunk_from(meta: dict[str, Any], text: str) -> Chunk:
    source = str(meta.get("source", ""))
    n = int(meta.get("n", 0))
    return Chunk(
        id=chunk_id(source, n),
        source=source,
        n=n,
        text=text,
        title=str(meta.get("title", "")),
        url=str(meta.get("url") or "") or None,
        published=str(meta.get("published") or "") or None,
        updated=str(meta.get("updated") or "") or None,
        site=str(meta.get("site") or "") or None,
        author=str(meta.get("author") or "") or None,
    )


def embedding_text(chunk: Chunk) -> str:
    """What gets embedded and BM25-indexed: the title gives a chunk its context."""
    return f"{chunk.title}\n\n{chunk.text}"
