"""A copy on disk of a loaded snapshot's live chunks, BM25 index and vectors, so a new process
skips reading them, and serves from them without holding them in memory.

`INDEX_DIR/cache/snapshot-<generation>-<key>/` holds `chunks.sqlite3` and `days.npy`
(store/chunk_table.py: read per question), the lexical index's files (memory-mapped; with each
chunk's stem ids, which the next generation's snapshot reuses), the chunks' vectors
(store/vectors.py: dense search reads them from disk, so a process serving from the cache never
loads Chroma's HNSW index), the state's articles (`documents.sqlite3`, store/document_table.py: a
process serving from the cache never parses the state) and `manifest.json` (the key, the state's
config and the sha256 of every other file). The key digests the state document's digest (the state
record's metadata carries it: `ChromaStore.read_mark`) and the code that builds a snapshot, so a
reindex from any process, or a change to tokenizing, misses the cache. The cache only saves time: one that is
missing, partial, corrupt or for another state is ignored (logged at DEBUG), the snapshot is read
from the store again and saved anew (saving reads from Chroma the vectors the previous snapshot's
cache does not hold, which loads Chroma's HNSW index into the saving process). A cache is written
into a temporary folder and renamed into place, so a reader never sees half of one; saving prunes
older generations' caches. Embedded mode only: a Chroma server is shared by processes on several
machines, and INDEX_DIR is otherwise not used there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np

from newsqa.index.retrieval.lexical import LexicalIndex
from newsqa.index.store.chunk_table import ChunkRows, DiskChunks, write_chunks
from newsqa.index.store.document_table import DiskDocuments, write_documents
from newsqa.index.store.state import IndexConfig, IndexState, Mark, state_digest, state_document
from newsqa.index.store.vectors import DiskVectors, write_vectors

log = logging.getLogger(__name__)

# 3: chunks in SQLite, read on demand; BM25 memory-mapped. 4: the vectors too. 5: each chunk's stem ids.
# 6: the state's articles
FORMAT = 6
PREFIX = "snapshot-"
TEMP_PREFIX = ".tmp-"
STALE_TEMP_S = 600.0  # a temporary folder this old was left by a killed process
# A change to any of these can change what a snapshot holds: it changes the key.
_CODE = (
    "store/records.py",
    "store/snapshot.py",
    "store/snapshot_cache.py",
    "store/state.py",
    "store/chroma.py",
    "store/chunk_table.py",
    "store/document_table.py",
    "store/vectors.py",
    "retrieval/lexical.py",
    "text/normalise.py",
    "text/terms.py",
)


@dataclass(frozen=True)
class Saved:
    """What a saved snapshot serves from, all read from its files on demand."""

    chunks: ChunkRows  # DiskChunks: sorted by source, n
    lexical: LexicalIndex  # memory-mapped
    vectors: DiskVectors  # by the same positions as `chunks`
    documents: DiskDocuments  # the state's articles; `.versions` their live versions
    config: IndexConfig | None  # what the state was built with


class SnapshotCache:
    """Saved snapshots under `folder`, one per index state."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._keyed: tuple[IndexState, tuple[int, str]] | None = None  # the last state's key

    def _key(self, state: IndexState) -> tuple[int, str]:
        """`_key(state)`, kept for the last state asked about: Snapshot.load asks about a state the
        cache lacks three times (look, save, open), and digesting a BBC state (2,225 articles) took
        0.07 s (0.03 s since state.to_json no longer deep-copies)."""
        keyed = self._keyed
        if keyed is not None and keyed[0] is state:
            return keyed[1]
        key = state.generation, _key(state_digest(state_document(state)))
        self._keyed = (state, key)
        return key

    def load(self, state: IndexState) -> Saved | None:
        """The live chunks, lexical index, vectors and articles saved for `state`, or None."""
        generation, key = self._key(state)
        return self._load(generation, key, state.collection)

    def load_marked(self, mark: Mark) -> Saved | None:
        """What was saved for the state `mark` names (ChromaStore.read_mark), or None: found without
        reading the state, by its digest (a mark without one finds nothing)."""
        if not mark.digest:
            return None
        return self._load(mark.generation, _key(mark.digest), mark.collection)

    def _load(self, generation: int, key: str, collection: str) -> Saved | None:
        folder = self.folder / _name(generation, key)
        if not folder.is_dir():
            log.debug("no snapshot cache for generation %d", generation)
            return None
        try:
            manifest = json.loads((folder / "manifest.json").read_bytes())
            if manifest.get("format") != FORMAT or manifest.get("key") != key:
                raise ValueError("it was saved for another state")
            if manifest.get("collection") != collection:
                raise ValueError("its chunks come from another collection")
            files = manifest["files"]
            if {p.name for p in folder.iterdir()} != set(files) | {"manifest.json"}:
                raise ValueError("its files are not the ones its manifest lists")
            for name, digest in files.items():
                if _sha256(folder / name) != digest:
                    raise ValueError(f"{name} does not match its digest")
            chunks = DiskChunks(folder)
            lexical = LexicalIndex.load(folder, mmap=True)
            if lexical.size != len(chunks):
                raise ValueError("its lexical index and chunks differ in length")
            vectors = DiskVectors(folder, chunks.days)
            documents = DiskDocuments(folder)
            config = IndexConfig.from_json(manifest["config"])
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            log.debug("ignoring the snapshot cache %s: %s", folder, exc)
            shutil.rmtree(folder, ignore_errors=True)  # so that it is saved again
            return None
        log.debug("snapshot of generation %d loaded from %s", generation, folder)
        return Saved(chunks, lexical, vectors, documents, config)

    def save(
        self, state: IndexState, chunks: ChunkRows, lexical: LexicalIndex, vectors: Iterable[np.ndarray]
    ) -> None:
        """Save a snapshot of `state` (best effort: a failure is logged and ignored); `vectors` are
        the chunks' unit vectors (vectors.unit) in their order, a page at a time, read only when it
        is saved."""
        generation, key = self._key(state)
        name = _name(generation, key)
        target = self.folder / name
        if not chunks or target.exists() or generation < max(self._generations(), default=0):
            return  # nothing to save, saved already, or `state` was superseded
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=self.folder))
            try:
                write_chunks(temp, chunks)
                lexical.save(temp)
                write_vectors(temp, vectors, chunks.days, unit_rows=True)
                write_documents(temp, state.documents)
                files = {p.name: _sha256(p) for p in sorted(temp.iterdir())}
                manifest = {
                    "format": FORMAT,
                    "key": key,
                    "generation": generation,
                    "collection": state.collection,
                    "config": None if state.config is None else asdict(state.config),
                    "files": files,
                }
                (temp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
                os.replace(temp, target)  # fails when another process saved it first: fine
            finally:
                shutil.rmtree(temp, ignore_errors=True)
        except (OSError, ValueError) as exc:
            log.debug("could not save the snapshot cache %s: %s", target, exc)
            return
        log.debug("saved the snapshot of generation %d to %s", generation, target)
        self._prune(generation, name)

    def clear(self) -> None:
        """Remove every saved snapshot (when a new index starts its generations again at 1)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def _generations(self) -> list[int]:
        try:
            return [g for p in self.folder.iterdir() if (g := _generation_of(p.name)) is not None]
        except OSError:
            return []

    def _prune(self, generation: int, keep: str) -> None:
        """Remove other caches up to `generation`, and temporary folders left by killed processes."""
        for path in self.folder.iterdir():
            old = _generation_of(path.name)
            if old is not None and old <= generation and path.name != keep:
                shutil.rmtree(path, ignore_errors=True)
            elif path.name.startswith(TEMP_PREFIX):
                try:
                    stale = time.time() - path.stat().st_mtime > STALE_TEMP_S
                except OSError:
                    continue
                if stale:
                    shutil.rmtree(path, ignore_errors=True)


def _name(generation: int, key: str) -> str:
    return f"{PREFIX}{generation}-{key[:16]}"


def _generation_of(name: str) -> int | None:
    if not name.startswith(PREFIX):
        return None
    number = name[len(PREFIX) :].partition("-")[0]
    return int(number) if number.isdigit() else None


def _key(state_digest: str) -> str:
    """The cache key of the state whose document has `state_digest`, with this code."""
    return hashlib.sha256(f"{_code_digest()} {state_digest}".encode()).hexdigest()


@lru_cache(maxsize=1)
def _code_digest() -> str:
    here = Path(__file__).resolve().parents[1]  # index/
    digest = hashlib.sha256(f"{FORMAT} bm25s {bm25s.__version__}".encode())
    for name in _CODE:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:  # streamed: the files grow with the corpus
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
