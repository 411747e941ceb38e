"""Incremental, atomic reindexing: corpus → chunks → embeddings → Chroma.

Only new and changed articles are embedded. New chunks are written beside the old ones under
versioned record ids; the index state is switched in one write; then superseded records are
deleted. A reindex that fails or is killed before the switch leaves the previous state serving
(its half-written records are invisible and are removed by the next run). A full rebuild (asked
for, or forced by a change of model or chunking) writes a new collection and switches to it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from newsqa.index.errors import NewsqaError, ReindexBusyError, ReindexError
from newsqa.index.ingest.chunking import Chunker
from newsqa.index.ingest.copies import copy_groups
from newsqa.index.ingest.reader import scan_corpus
from newsqa.index.retrieval.registry import model_note
from newsqa.index.store.chroma import CHUNK_PREFIX, ChromaStore
from newsqa.index.store.records import embedding_text, record_id, source_of, version_of
from newsqa.index.store.state import (
    STATE_FORMAT,
    DocumentState,
    IndexConfig,
    IndexState,
    mark_of,
    outdated_format,
)
from newsqa.index.text.shingles import minhash
from newsqa.index.types import Article, Chunk, Progress, ReindexSummary

log = logging.getLogger(__name__)

# Chunks embedded and written per step: bounds memory and what a crash leaves to undo. The embedder
# sorts each step's chunks by length, and a longer step pads less: the model alone embedded 1,024 BBC
# chunks at 5,930 word pieces/s in one step against 5,740 in steps of 256 (medians of 3); whole
# builds took the same time either way (213 against 214.5 s, bench/README.md).
BATCH = 1024
REPORT_EVERY = 64  # chunks between progress reports within a step


@dataclass(frozen=True)
class Budget:
    """Limits on indexing work: chunks kept per article, chunks embedded per run (None: no limit)."""

    article_chunks: int | None = None
    run_chunks: int | None = None


@dataclass(frozen=True)
class Plan:
    added: list[Article]
    updated: list[Article]
    removed: list[str]
    unchanged: list[str]
    full: bool
    everything: list[Article]

    @property
    def to_embed(self) -> list[Article]:
        return self.everything if self.full else self.added + self.updated


def _version(article: Article) -> str:
    return article.sha256[:16]


class Indexer:
    """Brings the store in line with the corpus folder."""

    def __init__(
        self,
        store: ChromaStore,
        embedder: Any,
        chunker: Chunker,
        corpus_dir: Any,
        model_id: str,
        still_exclusive: Callable[[], None] | None = None,
        budget: Budget | None = None,
        before_switch: Callable[[IndexState], None] | None = None,
    ) -> None:
        self.store = store
        # Called with the new state once its chunks are written, before it goes live.
        self.before_switch = before_switch or (lambda state: None)
        self.budget = budget or Budget()
        # Raises ReindexBusyError once another process may be reindexing the same store.
        self.still_exclusive = still_exclusive or (lambda: None)
        self.embedder = embedder
        self.chunker = chunker
        self.corpus_dir = corpus_dir
        self.config = IndexConfig(model_id, chunker.chunk_tokens, chunker.overlap)

    def run(
        self, *, rebuild: bool = False, progress: Callable[[Progress], None] | None = None
    ) -> ReindexSummary:
        started = time.perf_counter()
        report = progress or (lambda p: None)
        state = self.store.read_state()
        full = rebuild or state is None or state.config != self.config
        changed = _config_change(state.config, self.config) if state is not None and not rebuild else None
        if changed:
            log.warning("the index was built with %s: rebuilding it whole (old and new never mix)", changed)
        if state is not None and not rebuild and outdated_format(state.config):
            log.warning(
                "the index was built by an earlier newsqa (format %s, now %d): rebuilding it so that "
                "every chunk carries its article's dates and publication",
                "unknown" if state.config is None else state.config.format,
                STATE_FORMAT,
            )
        # A file whose bytes still hash to its indexed sha256 is not parsed again: on a large corpus
        # parsing and cleaning every file would cost more than the change being indexed. An article
        # indexed before signatures were stored is read once more for its signature (not re-embedded).
        old_docs = {} if full or state is None else state.documents
        known = {source: doc.sha256 for source, doc in old_docs.items() if doc.signature}
        articles, unchanged, skipped = scan_corpus(self.corpus_dir, known)
        if not articles and not unchanged:
            skipped.append(f"no articles in {self.corpus_dir}: add .txt, .md or .html files")
        plan = self._plan(articles, unchanged, state, full)
        unsigned = any(not doc.signature for doc in old_docs.values())
        if not plan.full and not plan.to_embed and not plan.removed and not unsigned:
            self._collect_garbage(state)
            if state is not None and self.store.read_mark(legacy=False) != mark_of(state):
                # Written by an older newsqa, or a reindex crashed between the state and its mark:
                # write the mark that processes serving from the snapshot cache go by (store/chroma.py).
                self.still_exclusive()
                self.store.write_state(state)
            return self._summary(plan, state, skipped, 0, started)
        generation = state.generation + 1 if state else 1
        collection = f"{CHUNK_PREFIX}{generation}" if plan.full or state is None else state.collection
        written: list[str] = []
        try:
            embedded = self._embed_and_write(plan, collection, written, report)
            skipped.extend(embedded["warnings"])
            new_state = self._next_state(plan, state, articles, generation, collection, embedded)
            self.before_switch(new_state)
            self.still_exclusive()
            self.store.write_state(new_state)
        except ReindexBusyError:
            raise  # what this run wrote may now be shared with the run that took over: keep it
        except (NewsqaError, OSError, ValueError, RuntimeError) as exc:
            self._undo(plan, collection, written)
            outcome = "the previous index keeps serving" if state else "no index was built"
            raise ReindexError(f"reindex failed, {outcome}: {exc}", cause=type(exc).__name__) from exc
        self._drop_superseded(plan, state)
        for warning in skipped:
            log.debug("%s", warning)  # callers show summary.skipped to the user
        return self._summary(plan, new_state, skipped, len(embedded["chunks"]), started)

    def _plan(
        self, articles: list[Article], hashed: dict[str, str], state: IndexState | None, full: bool
    ) -> Plan:
        """`articles` were read; `hashed` (source → sha256) were only hashed: they are unchanged."""
        old = {} if state is None else state.versions
        current = {a.source for a in articles} | set(hashed)
        added = [a for a in articles if a.source not in old]
        updated = [a for a in articles if a.source in old and old[a.source] != _version(a)]
        same = {a.source for a in articles if a.source in old and old[a.source] == _version(a)}
        unchanged = sorted(set(hashed) | same)
        removed = [s for s in old if s not in current]
        return Plan(added, updated, removed, unchanged, full, list(articles))

    def _embed_and_write(
        self, plan: Plan, collection: str, written: list[str], report: Callable[[Progress], None]
    ) -> dict[str, Any]:
        chunks_of: dict[str, list[Chunk]] = {}
        pending: list[tuple[Chunk, str]] = []
        warnings: list[str] = []
        limit, budget = self.budget.article_chunks, self.budget.run_chunks
        for i, article in enumerate(plan.to_embed, 1):
            report(Progress("chunking", i, len(plan.to_embed)))
            if budget is not None and len(pending) >= budget:
                warnings.append(
                    f"left out {article.source} for now: this run embedded its limit of {budget:,} chunks "
                    "(MAX_REINDEX_CHUNKS); run `newsqa index` again to continue"
                )
                continue
            chunks = self.chunker.split(article, None if limit is None else limit + 1)
            if limit is not None and len(chunks) > limit:
                chunks = chunks[:limit]
                warnings.append(
                    f"indexed only the first {limit} chunks of {article.source}: it is longer than "
                    "MAX_ARTICLE_CHUNKS allows"
                )
            chunks_of[article.source] = chunks
            pending.extend((c, _version(article)) for c in chunks)
        total = len(pending)
        report(Progress("embedding", 0, total))
        # An embedder with several requests in flight takes as many texts per call as keep them all busy.
        step = (
            BATCH
            if getattr(self.embedder, "concurrency", 1) == 1
            else max(BATCH, self.embedder.embed_batch_size)
        )
        for start in range(0, total, step):
            batch = pending[start : start + step]
            vectors = self._embed([embedding_text(c) for c, _ in batch], start, total, report)
            self.store.add(collection, [c for c, _ in batch], vectors, [v for _, v in batch])
            written.extend(record_id(c.source, c.n, v) for c, v in batch)
            self.still_exclusive()
            log.debug("wrote %d/%d chunks to %s", start + len(batch), total, collection)
            report(Progress("embedding", start + len(batch), total))
        return {"chunks_of": chunks_of, "chunks": [c for c, _ in pending], "warnings": warnings}

    def _embed(
        self, texts: list[str], start: int, total: int, report: Callable[[Progress], None]
    ) -> list[Any]:
        """The vectors of one step's texts, reporting progress as the embedder's batches finish."""
        embed_documents = getattr(self.embedder, "embed_documents", None)
        if embed_documents is None:  # any llama-index embedding will do, without progress within a step
            return list(self.embedder.get_text_embedding_batch(texts))
        last = 0

        def progress(done: int, _: int) -> None:
            nonlocal last
            if done - last >= REPORT_EVERY and done < len(texts):
                last = done
                report(Progress("embedding", start + done, total))

        return list(embed_documents(texts, progress=progress))

    def _next_state(
        self,
        plan: Plan,
        state: IndexState | None,
        articles: list[Article],
        generation: int,
        collection: str,
        embedded: dict[str, Any],
    ) -> IndexState:
        old_docs = {} if state is None or plan.full else state.documents
        documents: dict[str, DocumentState] = {}
        for article in articles:
            if article.source in embedded["chunks_of"]:
                documents[article.source] = DocumentState(
                    version=_version(article),
                    chunks=len(embedded["chunks_of"][article.source]),
                    sha256=article.sha256,
                    title=article.title,
                    url=article.url,
                    published=article.published,
                    updated=article.updated,
                    site=article.site,
                    author=article.author,
                    signature=minhash(article.text),
                )
            elif article.source in old_docs:
                old = old_docs[article.source]
                signed = old.signature or minhash(article.text)
                documents[article.source] = replace(old, signature=signed)
        for source in plan.unchanged:  # hashed, not read: not in `articles`
            if source not in documents and source in old_docs:
                documents[source] = old_docs[source]
        return IndexState(
            generation=generation,
            collection=collection,
            config=self.config,
            documents=_with_copies(documents),
            updated_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )

    def _undo(self, plan: Plan, collection: str, written: list[str]) -> None:
        """Best effort: remove what this run wrote (the next run would collect it anyway)."""
        try:
            if plan.full:
                self.store.drop(collection)
                self.store.remove_orphans()
            elif written:
                self.store.delete(collection, written)
        except NewsqaError:
            log.warning("could not clean up after a failed reindex; the next reindex will")

    def _drop_superseded(self, plan: Plan, state: IndexState | None) -> None:
        if state is None:
            return
        try:
            if plan.full:
                self.store.drop(state.collection)
                freed = self.store.remove_orphans(compact=True)  # a rebuild takes minutes, this a second
                log.debug("freed %d bytes the replaced index held on disk", freed)
                return
            stale = [
                record
                for source in [a.source for a in plan.updated] + plan.removed
                for record in state.records_of(source)
            ]
            self.store.delete(state.collection, stale)
        except NewsqaError:
            log.warning("could not delete superseded chunks; the next reindex will", exc_info=True)

    def _collect_garbage(self, state: IndexState | None) -> None:
        """Remove what a killed run left: records of no live version, collections not in use."""
        if state is None:
            return
        live = state.collection
        for name in self.store.chunk_collections():
            if name != live:
                self.store.drop(name)
        freed = self.store.remove_orphans()
        if freed:
            log.info("freed %s on disk that earlier reindexes left behind", f"{freed:,} bytes")
        if self.store.count(live) == state.chunk_count:
            return  # nothing left over (listing every record id costs seconds on a large index)
        versions = state.versions
        orphans = [
            rid for rid in self.store.record_ids(live) if versions.get(source_of(rid)) != version_of(rid)
        ]
        if orphans:
            log.info("removing %d chunks left by an interrupted reindex", len(orphans))
            self.store.delete(live, orphans)

    def _summary(
        self,
        plan: Plan,
        state: IndexState | None,
        skipped: list[str],
        embedded: int,
        started: float,
    ) -> ReindexSummary:
        return ReindexSummary(
            added=len(plan.added),
            updated=len(plan.updated),
            removed=len(plan.removed),
            unchanged=len(plan.unchanged),
            skipped=list(skipped),
            chunks=0 if state is None else state.chunk_count,
            embedded=embedded,
            seconds=round(time.perf_counter() - started, 3),
            generation=state.generation if state else 0,
        )


def _with_copies(documents: dict[str, DocumentState]) -> dict[str, DocumentState]:
    """`documents` with `copy_of` recomputed over the whole corpus (a canonical copy may have changed)."""
    copy_of = copy_groups(
        {source: doc.signature for source, doc in documents.items()},
        {source: doc.published for source, doc in documents.items()},
    )
    return {source: replace(doc, copy_of=copy_of.get(source)) for source, doc in documents.items()}


def _config_change(old: IndexConfig | None, new: IndexConfig) -> str | None:
    """What differs between the config an index was built with and this run's, said for a user;
    None when nothing does, or when the format alone differs (outdated_format says that)."""
    if old is None:
        return None
    parts: list[str] = []
    for field, label in (
        ("embed_model", "embedding model"),
        ("chunk_tokens", "CHUNK_TOKENS"),
        ("chunk_overlap", "CHUNK_OVERLAP"),
    ):
        was, now = getattr(old, field), getattr(new, field)
        if was != now:
            note = model_note(was) if field == "embed_model" else None  # e.g. the int8 model's id
            parts.append(f"{label} {was} ({f'{note}; now' if note else 'now'} {now})")
    return ", ".join(parts) or None
