"""A generation's live chunks by position (the lexical index's positions): in memory, or on disk.

`ChunkList` holds them in a list (a snapshot just read from the store, or one the cache could not
save). `DiskChunks` reads them from the snapshot cache's `chunks.sqlite3` only when a question
needs them (the BM25 hits, the articles it quotes), and their day numbers from a memory-mapped
`days.npy`, so a serving process's memory does not grow with the corpus. Both are sorted by
(source, n) and give the same answers; the files are immutable once written.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, overload

import numpy as np

from newsqa.index.store.records import chunk_id, published_day
from newsqa.index.types import Chunk

CHUNKS_FILE = "chunks.sqlite3"
DAYS_FILE = "days.npy"
_FIELDS = "source, n, text, title, url, published, updated, site, author"


class ChunkRows(Sequence[Chunk]):
    """The live chunks, sorted by (source, n); position i is the lexical index's document i."""

    def span(self, source: str) -> list[Chunk]:
        """The chunks of one article, in order."""
        raise NotImplementedError

    @property
    def days(self) -> np.ndarray:
        """Each chunk's records.published_day (UNDATED = 0), by position."""
        raise NotImplementedError


class ChunkList(ChunkRows):
    """The chunks in memory."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self._chunks = chunks

    def __len__(self) -> int:
        return len(self._chunks)

    @overload
    def __getitem__(self, position: int) -> Chunk: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[Chunk]: ...
    def __getitem__(self, position: int | slice) -> Chunk | Sequence[Chunk]:
        return self._chunks[position]

    def __iter__(self) -> Iterator[Chunk]:
        return iter(self._chunks)

    def span(self, source: str) -> list[Chunk]:
        return self._chunks[bisect_left(self._sources, source) : bisect_right(self._sources, source)]

    @cached_property
    def _sources(self) -> list[str]:
        return [c.source for c in self._chunks]

    @cached_property
    def days(self) -> np.ndarray:
        return np.array([published_day(c.published) for c in self._chunks], dtype=np.int64)


def write_chunks(folder: Path, chunks: Iterable[Chunk]) -> int:
    """Write `chunks` (sorted by source, n) as `DiskChunks` reads them; returns how many."""
    days: list[int] = []
    db = sqlite3.connect(folder / CHUNKS_FILE)
    try:
        db.execute(
            "CREATE TABLE chunks (position INTEGER PRIMARY KEY, source TEXT NOT NULL, n INTEGER NOT NULL,"
            " text TEXT NOT NULL, title TEXT NOT NULL, url TEXT, published TEXT, updated TEXT, site TEXT,"
            " author TEXT)"
        )
        rows = (
            (i, c.source, c.n, c.text, c.title, c.url, c.published, c.updated, c.site, c.author)
            for i, c in enumerate(_counting_days(chunks, days))
        )
        db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("CREATE INDEX chunks_by_source ON chunks (source, n)")
        db.commit()
    finally:
        db.close()
    np.save(folder / DAYS_FILE, np.asarray(days, dtype=np.int64), allow_pickle=False)
    return len(days)


def _counting_days(chunks: Iterable[Chunk], days: list[int]) -> Iterator[Chunk]:
    previous: tuple[str, int] | None = None
    for chunk in chunks:
        if previous is not None and (chunk.source, chunk.n) <= previous:
            raise ValueError("chunks must be sorted by (source, n)")
        previous = (chunk.source, chunk.n)
        days.append(published_day(chunk.published))
        yield chunk


class DiskChunks(ChunkRows):
    """The chunks `write_chunks` wrote into `folder`, read on demand (one connection, shared)."""

    def __init__(self, folder: Path) -> None:
        # Opened now, so that the files stay readable if another process prunes the folder later.
        self._days = np.load(folder / DAYS_FILE, mmap_mode="r", allow_pickle=False)
        uri = (folder / CHUNKS_FILE).resolve().as_uri() + "?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        weakref.finalize(self, self._db.close)  # when the snapshot is replaced and dropped
        self._lock = threading.Lock()
        try:
            (count,) = self._one("SELECT count(*) FROM chunks", ())
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ValueError(f"{CHUNKS_FILE} cannot be read: {exc}") from None
        if count != len(self._days) or self._days.ndim != 1:
            self._db.close()
            raise ValueError(f"{CHUNKS_FILE} and {DAYS_FILE} differ in length")
        self._size = int(count)

    def _one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
        with self._lock:
            return tuple(self._db.execute(sql, args).fetchone())

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, position: int) -> Chunk: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[Chunk]: ...
    def __getitem__(self, position: int | slice) -> Chunk | Sequence[Chunk]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(self._size))]
        if position < 0:
            position += self._size
        if not 0 <= position < self._size:
            raise IndexError(position)
        return _chunk(self._one(f"SELECT {_FIELDS} FROM chunks WHERE position = ?", (position,)))

    def __iter__(self) -> Iterator[Chunk]:
        for row in self._all(f"SELECT {_FIELDS} FROM chunks ORDER BY position", ()):
            yield _chunk(row)

    def span(self, source: str) -> list[Chunk]:
        return [
            _chunk(r)
            for r in self._all(f"SELECT {_FIELDS} FROM chunks WHERE source = ? ORDER BY n", (source,))
        ]

    @property
    def days(self) -> np.ndarray:
        return self._days


def _chunk(row: tuple[Any, ...]) -> Chunk:
    source, n, text, title, url, published, updated, site, author = row
    return Chunk(chunk_id(source, n), source, n, text, title, url, published, updated, site, author)
