"""Chunks and BM25 served from disk (the snapshot cache) give exactly what they gave from memory."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from newsqa.index.retrieval.hybrid import retrieve
from newsqa.index.retrieval.lexical import LexicalIndex
from newsqa.index.store.chunk_table import ChunkList, DiskChunks, write_chunks
from newsqa.index.store.records import published_day
from newsqa.index.store.snapshot import Snapshot
from newsqa.index.store.snapshot_cache import SnapshotCache
from newsqa.index.types import Chunk

from .conftest import indexed_copy

DATED = Path(__file__).parent / "data" / "dated"
SEED = Path(__file__).resolve().parents[1] / "corpus"


def _chunks() -> list[Chunk]:
    out = []
    articles = [("a.txt", 3, "2025-03-12"), ("b/c.txt", 2, None), ("z.md", 1, "2024-01-02")]
    for source, count, published in articles:
        for n in range(count):
            out.append(
                Chunk(
                    f"{source}#{n}", source, n, f"text {n} of {source} — “quoted”", f"Title {source}", None,
                    published, None, "Outlet" if published else None, None,
                )
            )  # fmt: skip
    return out


@pytest.mark.fast
def test_disk_chunks_read_back_what_was_written(tmp_path: Path) -> None:
    chunks = _chunks()
    assert write_chunks(tmp_path, chunks) == 6
    disk, memory = DiskChunks(tmp_path), ChunkList(chunks)
    assert len(disk) == len(memory) == 6
    assert list(disk) == list(memory) == chunks
    assert [disk[i] for i in range(6)] == chunks and disk[-1] == chunks[-1]
    assert disk.span("b/c.txt") == memory.span("b/c.txt") == chunks[3:5]
    assert disk.span("missing.txt") == memory.span("missing.txt") == []
    np.testing.assert_array_equal(disk.days, memory.days)
    assert list(disk.days) == [published_day(c.published) for c in chunks]
    with pytest.raises(IndexError):
        disk[6]
    with ThreadPoolExecutor(max_workers=4) as pool:  # the bot reads from several threads at once
        assert list(pool.map(lambda i: disk[i % 6], range(200))) == [chunks[i % 6] for i in range(200)]


@pytest.mark.fast
def test_unsorted_chunks_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sorted"):
        write_chunks(tmp_path, list(reversed(_chunks())))


@pytest.mark.fast
def test_a_damaged_chunk_file_is_a_value_error(tmp_path: Path) -> None:
    write_chunks(tmp_path, _chunks())
    (tmp_path / "chunks.sqlite3").write_bytes(b"not a database" * 100)
    with pytest.raises(ValueError, match="chunks.sqlite3"):
        DiskChunks(tmp_path)


@pytest.mark.fast
def test_memory_mapped_bm25_scores_as_the_loaded_one(tmp_path: Path) -> None:
    texts = [c.text + " Iraq troops" * (c.n % 2) for c in _chunks()]
    LexicalIndex(texts).save(tmp_path)
    mapped, loaded = LexicalIndex.load(tmp_path, mmap=True), LexicalIndex.load(tmp_path)
    assert isinstance(mapped._bm25.scores["data"], np.memmap)
    for query in ["troops in Iraq", "quoted text", "z.md", "nothing"]:
        assert mapped.search(query, 5) == loaded.search(query, 5)


@pytest.mark.parametrize("corpus", [SEED, DATED], ids=["seed", "dated"])
def test_retrieval_from_disk_equals_retrieval_from_memory(make_qa, tmp_path, corpus):
    qa, state = indexed_copy(make_qa, tmp_path, corpus)
    memory = Snapshot.load(qa.store, state)  # no cache: chunks and BM25 in memory
    disk = Snapshot.load(qa.store, state, cache=SnapshotCache(tmp_path / "cache"))
    assert isinstance(memory.chunks, ChunkList) and isinstance(disk.chunks, DiskChunks)
    questions = [
        "How many US troops are in Iraq?",
        "Who is the Russian president's special representative for the Syrian settlement?",
        "What did the central bank decide about interest rates?",
        "ferry strike",
        "When did the talks start?",
    ]
    windows = [None, (20250101, 20251231), (0, 0)]
    for question in questions:
        vector = qa.embedder.get_query_embedding(question)
        for days in windows:
            a = retrieve(memory, qa.store, vector, question, 12, days=days)
            b = retrieve(disk, qa.store, vector, question, 12, days=days)
            assert a == b
    for source in list(state.documents)[:5]:
        assert memory.article_text(source) == disk.article_text(source)


def test_answers_survive_another_process_pruning_the_cache_files(make_qa, corpus):
    qa = make_qa(corpus)
    qa.reindex()
    first = qa.ask("How many US troops are in Iraq?")
    assert isinstance(qa.snapshot().chunks, DiskChunks)  # served from the cache's files
    shutil.rmtree(qa.settings.index_dir / "cache")  # as a newer generation's save would prune it
    again = qa.ask("How many US troops are in Iraq?")
    assert replace(again, timings_ms={}) == replace(first, timings_ms={})
    assert qa.ask("Who is Lavrentyev?").citations  # files opened before the prune stay readable


@pytest.mark.fast
def test_malloc_arenas_are_capped_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    import platform

    from newsqa.index.runtime import limit_malloc_arenas

    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    expected = platform.libc_ver()[0] == "glibc"
    assert limit_malloc_arenas() is expected
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is True  # the user's own setting stands
