"""A read-only view of one index generation: what queries run against.

Built from the store's state: the live collection, the live version of each article, and a
BM25 index over the live chunks. Swapped whole when a reindex (here or in another process)
switches the state, so a query never sees half of a reindex. A snapshot served from the snapshot
cache also answers dense queries from the vectors saved there (store/vectors.py); any other asks
the store (Chroma).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from newsqa.index.retrieval.lexical import LexicalIndex
from newsqa.index.store.chroma import ChromaStore
from newsqa.index.store.chunk_table import ChunkList, ChunkRows
from newsqa.index.store.document_table import DiskDocuments
from newsqa.index.store.records import embedding_text, published_day, record_id, version_of
from newsqa.index.store.snapshot_cache import Saved, SnapshotCache
from newsqa.index.store.state import DocumentState, IndexConfig, IndexState, Mark
from newsqa.index.store.vectors import DiskVectors, unit
from newsqa.index.text.normalise import fold
from newsqa.index.types import Chunk

_PAGE = 4096  # chunks whose vectors are gathered at a time while a snapshot is saved


@dataclass(frozen=True)
class Snapshot:
    generation: int
    collection: str
    versions: Mapping[str, str]  # source → live version (on disk when it came from the cache)
    documents: Mapping[str, DocumentState]  # source → title, url, sha256, chunks… (likewise)
    chunks: ChunkRows  # on disk when it came from the cache (store/chunk_table.py)
    lexical: LexicalIndex
    article_texts: dict[str, str]  # source → title and chunks, folded (text.normalise.fold); filled on use
    config: IndexConfig | None = None  # what the generation was built with (None: unknown, or empty)
    vectors: DiskVectors | None = None  # the chunks' vectors on disk, by the positions of `chunks`

    def article_text(self, source: str) -> str:
        # Folding every article at load costs ~0.5 s on 2,000 articles; a question needs a few.
        text = self.article_texts.get(source)
        if text is None:
            text = self.article_texts[source] = _article_texts(self.chunks.span(source)).get(source, "")
        return text

    def published(self) -> list[str | None]:
        """Every article's publication day (None when undated)."""
        documents = self.documents
        if isinstance(documents, DiskDocuments):
            return documents.published()
        return [doc.published for doc in documents.values()]

    @property
    def chunk_days(self) -> np.ndarray:
        """Each chunk's records.published_day (UNDATED = 0), in the order of `chunks`."""
        return self.chunks.days

    def is_live(self, record: str, source: str) -> bool:
        return self.versions.get(source) == version_of(record)

    def canonical_chunk(self, chunk: Chunk, days: tuple[int, int] | None = None) -> Chunk | None:
        """When `chunk`'s article was indexed as a copy of another, that article's chunk at the same
        position (or its last), if it is published within `days`; else None."""
        doc = self.documents.get(chunk.source)
        canonical = doc.copy_of if doc is not None else None
        span = self.chunks.span(canonical) if canonical else []
        if not span:
            return None
        twin = span[min(chunk.n, len(span) - 1)]
        if days is not None and not days[0] <= published_day(twin.published) <= days[1]:
            return None
        return twin

    def dense_index(self, store: Any) -> Any:
        """Where dense queries go (a hybrid.DenseIndex): this snapshot when it has its vectors on
        disk, else `store`."""
        return self if self.vectors is not None else store

    def query(
        self, name: str, embedding: list[float], n: int, days: tuple[int, int] | None = None
    ) -> list[tuple[str, Chunk, float]]:
        """The nearest live chunks from the vectors on disk, as `ChromaStore.query` gives them: (record
        id, chunk, exp(cosine similarity − 1), the similarity llama-index's Chroma store reports)."""
        if self.vectors is None or name != self.collection:
            raise ValueError(f"this snapshot has no vectors of collection {name}")
        out = []
        for position, cosine in self.vectors.search(embedding, n, days):
            chunk = self.chunks[position]
            out.append(
                (record_id(chunk.source, chunk.n, self.versions[chunk.source]), chunk, math.exp(cosine - 1))
            )
        return out

    @classmethod
    def empty(cls) -> Snapshot:
        return cls(0, "", {}, {}, ChunkList([]), LexicalIndex([]), {})

    @classmethod
    def cached(cls, state: IndexState, cache: SnapshotCache) -> Snapshot | None:
        """The snapshot of `state` the cache holds, or None."""
        saved = cache.load(state)
        return None if saved is None else cls.saved(state.generation, state.collection, saved)

    @classmethod
    def from_mark(cls, mark: Mark, cache: SnapshotCache) -> Snapshot | None:
        """The snapshot of the state `mark` names, from `cache` alone (the state is not read), or None."""
        saved = cache.load_marked(mark)
        return None if saved is None else cls.saved(mark.generation, mark.collection, saved)

    @classmethod
    def saved(cls, generation: int, collection: str, saved: Saved) -> Snapshot:
        """A snapshot served from a saved cache: nothing of it held in memory (its articles too are
        read from the cache, so the parsed state need not be kept)."""
        documents = saved.documents
        return cls(
            generation,
            collection,
            documents.versions,
            documents,
            saved.chunks,
            saved.lexical,
            {},
            saved.config,
            saved.vectors,
        )

    @classmethod
    def load(
        cls,
        store: ChromaStore,
        state: IndexState,
        previous: Snapshot | None = None,
        cache: SnapshotCache | None = None,
    ) -> Snapshot:
        """Read the live chunks of `state` and build the lexical index over them.

        Given the `previous` snapshot of the same collection, only the chunks of articles whose
        version changed are read from the store (a record's content never changes under its id), and
        the others keep their stems (LexicalIndex.reusing) and, when `previous` has them on disk,
        their vectors. Given a `cache`, all comes from it when it holds this state, and is saved to
        it otherwise, then served from it: a snapshot from the cache keeps none of it in memory.
        """
        if cache is not None and (saved := cls.cached(state, cache)) is not None:
            return saved
        read = cls._read(store, state, previous, cache)
        saved = cls.cached(state, cache) if cache is not None else None
        return read if saved is None else replace(saved, article_texts=read.article_texts)

    @classmethod
    def save(
        cls, store: ChromaStore, state: IndexState, previous: Snapshot | None, cache: SnapshotCache
    ) -> None:
        """Save the snapshot of `state` into `cache` as `load` does, without opening it from there
        (a reindex saves the next generation's before it goes live, and does not serve from it)."""
        cls._read(store, state, previous, cache)

    @classmethod
    def _read(
        cls, store: ChromaStore, state: IndexState, previous: Snapshot | None, cache: SnapshotCache | None
    ) -> Snapshot:
        """The snapshot of `state`, read from the store and `previous` (see `load`), in memory; saved
        into `cache` when given."""
        versions, collection = state.versions, state.collection
        base = previous if previous is not None and previous.collection == collection else None
        texts: dict[str, str] = {}
        kept: list[tuple[Chunk, int | None]] = []  # each live chunk, and its position in `base`
        if base is not None:
            before = dict(base.versions.items())  # one read when they are on disk
            changed = [s for s, v in versions.items() if before.get(s) != v]
            wanted = [record for source in changed for record in state.records_of(source)]
            records = store.records(collection, wanted)
            kept = [
                (c, i) for i, c in enumerate(base.chunks) if before.get(c.source) == versions.get(c.source)
            ]
            texts = {s: t for s, t in base.article_texts.items() if s in versions and s not in changed}
        else:
            records = store.records(collection)
        kept += [
            (chunk, None) for record, chunk in records if versions.get(chunk.source) == version_of(record)
        ]
        kept.sort(key=lambda row: (row[0].source, row[0].n))
        live = [chunk for chunk, _ in kept]
        if base is not None:
            lexical = LexicalIndex.reusing(
                base.lexical, [embedding_text(c) if i is None else i for c, i in kept]
            )
        else:
            lexical = LexicalIndex([embedding_text(c) for c in live])
        if cache is not None:
            old = base.vectors if base is not None else None
            cache.save(state, ChunkList(live), lexical, _vectors(store, collection, versions, kept, old))
        return cls(
            state.generation,
            collection,
            versions,
            state.documents,
            ChunkList(live),
            lexical,
            texts,
            state.config,
        )


def _vectors(
    store: ChromaStore,
    collection: str,
    versions: dict[str, str],
    kept: list[tuple[Chunk, int | None]],
    old: DiskVectors | None,
) -> Iterator[np.ndarray]:
    """The unit vectors of the live chunks `kept`, in their order, a page at a time (read when
    saved): from `old` (the previous snapshot's, at the positions `kept` gives) when it has them,
    else from the store, which loads Chroma's HNSW index into this process."""
    for start in range(0, len(kept), _PAGE):
        page = kept[start : start + _PAGE]
        reused = np.array([old is not None and i is not None for _, i in page], dtype=bool)
        ids = [
            record_id(c.source, c.n, versions[c.source])
            for (c, _), r in zip(page, reused, strict=True)
            if not r
        ]
        read = (
            [unit(np.asarray(rows, dtype=np.float32)) for rows in store.embeddings(collection, ids)]
            if ids
            else []
        )
        if old is None or not reused.any():
            yield np.concatenate(read)
            continue
        rows = old.at(np.array([i for (_, i), r in zip(page, reused, strict=True) if r], dtype=np.int64))
        out = np.empty((len(page), rows.shape[1]), dtype=np.float32)
        out[reused] = rows
        if read:
            out[~reused] = np.concatenate(read)
        yield out


def _article_texts(chunks: list[Chunk]) -> dict[str, str]:
    parts: dict[str, list[str]] = {}
    for chunk in chunks:
        parts.setdefault(chunk.source, [chunk.title]).append(chunk.text)
    return {source: fold("\n".join(texts)) for source, texts in parts.items()}
