"""A generation's articles (source → DocumentState) in the snapshot cache, read on demand.

The index state names every article with its version, metadata and MinHash signature: parsed, it
held 165 MB at 35,600 articles (16x BBC) in every serving process. The snapshot cache saves it in
`documents.sqlite3` instead, and `DiskDocuments` reads an article's row only when a question needs
it, so a process serving from the cache never parses the state (store/live.py). The file is
immutable once written.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from newsqa.index.store.state import DocumentState, document_from_json, document_json

DOCUMENTS_FILE = "documents.sqlite3"


def write_documents(folder: Path, documents: Mapping[str, DocumentState]) -> None:
    """Write `documents` into `folder` as `DiskDocuments` reads them."""
    db = sqlite3.connect(folder / DOCUMENTS_FILE)
    try:
        db.execute(
            "CREATE TABLE documents (source TEXT PRIMARY KEY, version TEXT NOT NULL, published TEXT,"
            " data TEXT NOT NULL) WITHOUT ROWID"
        )
        rows = (
            (source, doc.version, doc.published, json.dumps(document_json(doc), ensure_ascii=False))
            for source, doc in sorted(documents.items())
        )
        db.executemany("INSERT INTO documents VALUES (?, ?, ?, ?)", rows)
        db.commit()
    finally:
        db.close()


class _Table:
    """One read-only connection to `documents.sqlite3`, shared by threads."""

    def __init__(self, folder: Path) -> None:
        # Opened now, so that the file stays readable if another process prunes the folder later.
        uri = (folder / DOCUMENTS_FILE).resolve().as_uri() + "?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        weakref.finalize(self, self._db.close)
        self._lock = threading.Lock()
        try:
            (self.size,) = self.all("SELECT count(*) FROM documents", ())[0]
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ValueError(f"{DOCUMENTS_FILE} cannot be read: {exc}") from None

    def all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def column(self, name: str, source: str) -> Any:
        rows = self.all(f"SELECT {name} FROM documents WHERE source = ?", (source,))
        if not rows:
            raise KeyError(source)
        return rows[0][0]

    def sources(self) -> Iterator[str]:
        return (source for (source,) in self.all("SELECT source FROM documents ORDER BY source", ()))


class DiskDocuments(Mapping[str, DocumentState]):
    """The articles `write_documents` wrote into `folder`: source → DocumentState."""

    def __init__(self, folder: Path) -> None:
        self._table = _Table(folder)
        self.versions = DiskVersions(self._table)

    def __getitem__(self, source: str) -> DocumentState:
        try:
            return document_from_json(json.loads(self._table.column("data", source)))
        except (TypeError, ValueError) as exc:  # a damaged row: as if the article were not indexed
            raise KeyError(source) from exc

    def __iter__(self) -> Iterator[str]:
        return self._table.sources()

    def __len__(self) -> int:
        return int(self._table.size)

    def items(self) -> Any:  # one query, not one per article (`newsqa sources` lists them all)
        rows = self._table.all("SELECT source, data FROM documents ORDER BY source", ())
        return [(source, document_from_json(json.loads(data))) for source, data in rows]

    def published(self) -> list[str | None]:
        """Every article's publication day (None when undated), without reading the rest."""
        return [day for (day,) in self._table.all("SELECT published FROM documents", ())]


class DiskVersions(Mapping[str, str]):
    """Source → live version, from the same file."""

    def __init__(self, table: _Table) -> None:
        self._table = table

    def __getitem__(self, source: str) -> str:
        return str(self._table.column("version", source))

    def __iter__(self) -> Iterator[str]:
        return self._table.sources()

    def __len__(self) -> int:
        return int(self._table.size)

    def items(self) -> Any:  # one query, not one per article
        return self._table.all("SELECT source, version FROM documents ORDER BY source", ())
