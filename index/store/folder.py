"""The embedded index on disk (`INDEX_DIR/chroma`): half an index, which file a process opened, what
a failure of chromadb means, and what deleted collections leave behind.

chromadb 1.5 keeps each collection's vectors in a folder named after its segment id next to
`chroma.sqlite3`; deleting a collection removes it from the catalogue but leaves that folder, and
the freed pages inside `chroma.sqlite3`. Without `remove_orphans` every rebuild would leak a copy
of the index. It reads chromadb's `segments` table (tests/test_chroma_internals.py checks it).
No chromadb import here: this is files and SQLite only.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

from newsqa.index.errors import IndexChangedError, IndexCorruptError, IndexNotFoundError, NewsqaError

log = logging.getLogger(__name__)

DATABASE = "chroma.sqlite3"
MIN_FREE_BYTES = 1_000_000  # less than this left on the disk: a failed write is a full disk
VACUUM_SHARE = 0.25  # compact chroma.sqlite3 once this share of its pages is free
REBUILD_ADVICE = "`newsqa index --rebuild` moves it aside (kept) and builds a new one"
# SQLite's words for a write the file system refused (full disk, file size limit, read-only mount)
_WRITE_FAILURES = (
    "disk i/o error",
    "database or disk is full",
    "readonly database",
    "read-only file system",
    "no space left",
)
# ... and for a file that is not (or no longer) a whole SQLite database
_DAMAGE = ("file is not a database", "malformed", "no such table", "no such column", "database disk image")


def check_damage(folder: Path, where: str, *, create: bool) -> None:
    """A folder that is half an index is damage, never "no index yet"; only `create` makes one."""
    database = folder / DATABASE
    if folder.exists() and not folder.is_dir():
        damage = f"{folder} is not a folder"
    elif database.is_file() and database.stat().st_size == 0:
        damage = f"{DATABASE} is empty"
    elif not database.exists() and segment_folders(folder):
        damage = f"{DATABASE} is missing"
    elif database.exists() or create:
        return
    else:
        raise IndexNotFoundError(f"no index yet in the {where}: run `newsqa index` first")
    raise IndexCorruptError(f"the {where} is damaged ({damage}); {REBUILD_ADVICE}", path=str(folder.parent))


def failure(exc: Exception, folder: Path, where: str, opened: tuple[int, int] | None) -> NewsqaError:
    """What chromadb's `exc` about the index in `folder` (opened as file `opened`) means, in words."""
    why = f"{type(exc).__name__}: {exc}"
    if opened is not None and identity(folder) != opened:
        return IndexChangedError(f"the {where} was deleted or replaced by another process ({why})")
    message = str(exc).lower()
    if "database is locked" in message:  # e.g. a rebuild compacting chroma.sqlite3 for a second
        return IndexChangedError(f"the {where} is locked by another process writing to it ({why})")
    if any(sign in message for sign in _WRITE_FAILURES) and not any(s in message for s in _DAMAGE):
        reason = write_failure(folder, opened) or "the disk is full, over a quota or failing"
        return IndexCorruptError(f"cannot write to the {where} ({why}): {reason}", path=str(folder.parent))
    return IndexCorruptError(
        f"the {where} is damaged and cannot be read ({why}); {REBUILD_ADVICE}", path=str(folder.parent)
    )


def identity(folder: Path) -> tuple[int, int] | None:
    """(device, inode) of the database in `folder`: it changes when the folder is deleted or replaced."""
    try:
        info = (folder / DATABASE).stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def write_failure(folder: Path, opened: tuple[int, int] | None) -> str | None:
    """Why a write to the index in `folder` failed, when the file system tells; None when it does not."""
    if identity(folder) != opened:
        return "it was deleted or replaced by another process while this one had it open"
    try:
        if shutil.disk_usage(folder).free < MIN_FREE_BYTES:
            return "the disk is full"
    except OSError:
        return "it was deleted while this process had it open"
    if not os.access(folder, os.W_OK) or not os.access(folder / DATABASE, os.W_OK):
        return "the folder is read-only"
    if resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY:
        return "this process has a file size limit (ulimit -f), which the index reached"
    return None


def segment_folders(folder: Path) -> list[Path]:
    """The folders in `folder` named like chromadb segments (a UUID each)."""
    try:
        return [p for p in folder.iterdir() if p.is_dir() and _is_uuid(p.name)]
    except OSError:
        return []


def remove_orphans(folder: Path, *, compact: bool = False) -> int:
    """Delete segment folders no collection uses and compact the database (always with `compact`,
    else once VACUUM_SHARE of it is free pages); the bytes freed.

    Best effort, and safe beside other processes: a folder listed before the catalogue is read and
    missing from it belonged to a deleted collection (chromadb records a segment before its folder)."""
    candidates = segment_folders(folder)
    database = folder / DATABASE
    if not database.is_file():
        return 0
    before = _size(folder)
    try:
        with closing(sqlite3.connect(database, timeout=2.0)) as db:
            live = {str(row[0]) for row in db.execute("SELECT id FROM segments")}
            free = db.execute("PRAGMA freelist_count").fetchone()[0]
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            if free and (compact or free / pages >= VACUUM_SHARE):
                db.execute("VACUUM")
    except sqlite3.Error as exc:  # busy (another process writes), or not chromadb's layout
        log.debug("not cleaning up %s: %s", folder, exc)
        return 0
    for path in candidates:
        if path.name not in live:
            log.debug("removing %s, left by a deleted collection", path)
            shutil.rmtree(path, ignore_errors=True)
    return max(0, before - _size(folder))


def _size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except OSError:  # removed meanwhile
            continue
    return total


def _is_uuid(name: str) -> bool:
    try:
        return str(uuid.UUID(name)) == name
    except ValueError:
        return False
