"""Dense search from the vectors in the snapshot cache finds what Chroma's query finds."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from newsqa.index.retrieval.hybrid import retrieve
from newsqa.index.store import vectors as vectors_module
from newsqa.index.store.snapshot import Snapshot
from newsqa.index.store.snapshot_cache import SnapshotCache
from newsqa.index.store.vectors import DiskVectors, unit, write_vectors

from .conftest import indexed_copy

DATED = Path(__file__).parent / "data" / "dated"
SEED = Path(__file__).resolve().parents[1] / "corpus"
QUESTIONS = [
    "How many US troops are in Iraq?",
    "Who is the Russian president's special representative for the Syrian settlement?",
    "What did the central bank decide about interest rates?",
    "ferry strike",
    "When did the talks start?",
]
WINDOWS = [None, (20250101, 20251231), (20250301, 20250331), (0, 0)]


def _exact(rows: np.ndarray, days: np.ndarray, query: np.ndarray, n: int, window=None) -> list[int]:
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    scores = unit.astype(np.float32) @ (query / np.linalg.norm(query))
    keep = np.ones(len(rows), bool) if window is None else (days >= window[0]) & (days <= window[1])
    order = [int(i) for i in np.lexsort((np.arange(len(rows)), -scores)) if keep[i]]
    return order[:n]


def _random(size: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(size, 16)).astype(np.float32)
    days = rng.choice([0, 20240105, 20250310, 20250312, 20251101], size=size).astype(np.int64)
    return rows, days


def _pages(rows: np.ndarray, page: int = 7):
    return (rows[i : i + page] for i in range(0, len(rows), page))


@pytest.mark.fast
def test_exact_search_below_the_ivf_size(tmp_path: Path) -> None:
    rows, days = _random(300)
    assert write_vectors(tmp_path, _pages(rows), days) == 300
    disk = DiskVectors(tmp_path, days)
    assert len(disk) == 300 and len(np.load(tmp_path / vectors_module.LISTS_FILE)) == 2  # one list
    for seed in range(5):
        query = np.random.default_rng(seed + 10).normal(size=16)
        for window in [None, (20250310, 20250312), (0, 0), (20260101, 20261231)]:
            found = disk.search(list(query), 10, window)
            assert [p for p, _ in found] == _exact(rows, days, query, 10, window)
            assert all(days[p] >= window[0] and days[p] <= window[1] for p, _ in found) if window else True


@pytest.mark.fast
def test_ivf_lists_find_the_exact_neighbours_when_all_are_probed(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(vectors_module, "IVF_FROM", 100)
    monkeypatch.setattr(vectors_module, "LIST_ROWS", 50)
    monkeypatch.setattr(vectors_module, "BLOCK", 64)  # several blocks per pass, several regrouping passes
    rows, days = _random(1000)
    write_vectors(tmp_path, _pages(rows, 130), days)
    disk = DiskVectors(tmp_path, days)
    lists = np.load(tmp_path / vectors_module.LISTS_FILE)
    assert len(lists) == 21 and (np.diff(lists) > 0).all()  # 20 lists, none empty
    query = np.random.default_rng(3).normal(size=16)
    monkeypatch.setattr(vectors_module, "NPROBE", 20)
    for window in [None, (20250310, 20250312), (0, 0)]:
        assert [p for p, _ in disk.search(query, 25, window)] == _exact(rows, days, query, 25, window)
    monkeypatch.setattr(vectors_module, "NPROBE", 4)  # a fifth of the lists: approximate
    found = {p for p, _ in disk.search(query, 25)}
    assert len(found) == 25 and len(found & set(_exact(rows, days, query, 25))) >= 15
    # A window holding few rows probes more lists, down to all: exact again.
    narrow = (20240105, 20240105)
    assert [p for p, _ in disk.search(query, 25, narrow)][:5] == _exact(rows, days, query, 5, narrow)


@pytest.mark.fast
def test_vectors_that_do_not_match_the_chunks_are_refused(tmp_path: Path) -> None:
    rows, days = _random(50)
    with pytest.raises(ValueError, match="50 vectors for 49 chunks"):
        write_vectors(tmp_path, _pages(rows), days[:49])
    write_vectors(tmp_path, _pages(rows), days)
    with pytest.raises(ValueError, match="do not match"):
        DiskVectors(tmp_path, days[:49])
    path = tmp_path / vectors_module.VECTORS_FILE
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(ValueError, match="do not match"):
        DiskVectors(tmp_path, days)


@pytest.mark.fast
@pytest.mark.parametrize("ivf", [False, True], ids=["one list", "ivf lists"])
def test_vectors_read_back_by_position_are_the_ones_written(tmp_path, monkeypatch, ivf) -> None:
    if ivf:
        monkeypatch.setattr(vectors_module, "IVF_FROM", 100)
        monkeypatch.setattr(vectors_module, "LIST_ROWS", 50)
    rows, days = _random(400)
    write_vectors(tmp_path, _pages(rows, 64), days)
    disk = DiskVectors(tmp_path, days)
    positions = np.array([399, 0, 17, 18, 19, 250, 17, 5])
    written = disk.at(np.arange(400))
    assert np.array_equal(disk.at(positions), written[positions])
    assert np.allclose(written, unit(rows), atol=1e-6)
    # Written again as unit rows, they keep their bits: a snapshot reusing them equals a fresh one.
    again = tmp_path / "again"
    again.mkdir()
    write_vectors(again, _pages(written, 64), days, unit_rows=True)
    assert np.array_equal(DiskVectors(again, days).at(np.arange(400)), written)
    for name in (vectors_module.VECTORS_FILE, vectors_module.SLOTS_FILE, vectors_module.LISTS_FILE):
        assert (again / name).read_bytes() == (tmp_path / name).read_bytes()


def _live_chroma(qa, snapshot: Snapshot, vector: list[float], n: int, days) -> list[tuple[str, float]]:
    found = qa.store.query(snapshot.collection, vector, n + 10, days)
    return [(rid, sim) for rid, chunk, sim in found if snapshot.is_live(rid, chunk.source)][:n]


def _same_as_chroma(qa, snapshot: Snapshot, n: int = 40) -> None:
    assert snapshot.vectors is not None and snapshot.dense_index(qa.store) is snapshot
    for question in QUESTIONS:
        vector = qa.embedder.get_query_embedding(question)
        for days in WINDOWS:
            chroma = _live_chroma(qa, snapshot, vector, n, days)
            disk = [(rid, sim) for rid, _, sim in snapshot.query(snapshot.collection, vector, n, days)]
            assert [rid for rid, _ in disk] == [rid for rid, _ in chroma], (question, days)
            assert np.allclose([s for _, s in disk], [s for _, s in chroma], atol=1e-3)


@pytest.mark.parametrize("corpus", [SEED, DATED], ids=["seed", "dated"])
def test_disk_dense_search_finds_what_chroma_finds(make_qa, tmp_path, corpus):
    qa, state = indexed_copy(make_qa, tmp_path, corpus)
    disk = Snapshot.load(qa.store, state, cache=SnapshotCache(tmp_path / "cache"))
    _same_as_chroma(qa, disk)
    memory = Snapshot.load(qa.store, state)  # no cache: dense queries go to Chroma
    assert memory.vectors is None and memory.dense_index(qa.store) is qa.store
    for question in QUESTIONS:
        vector = qa.embedder.get_query_embedding(question)
        for days in WINDOWS:
            a = retrieve(memory, qa.store, vector, question, 12, days=days).passages
            b = retrieve(disk, disk, vector, question, 12, days=days).passages
            assert [p.chunk for p in a] == [p.chunk for p in b]
            assert np.allclose(
                [p.dense_similarity or 0 for p in a], [p.dense_similarity or 0 for p in b], atol=1e-3
            )


def test_an_index_updated_incrementally_gets_fresh_vectors(make_qa, corpus):
    qa = make_qa(corpus)
    qa.reindex()
    qa.ask(QUESTIONS[0])
    old = qa.snapshot()
    (corpus / "kuwait.txt").write_text(
        "Kuwait base expands\n\nAbout 13,500 US troops are stationed in Kuwait.\n", encoding="utf-8"
    )
    first = sorted(corpus.glob("*.txt"))[0]
    first.write_text(
        first.read_text(encoding="utf-8") + "\n\nA late paragraph about ferries.\n", encoding="utf-8"
    )
    qa.reindex()
    assert "13,500" in qa.ask("How many US troops are in Kuwait?").answer
    new = qa.snapshot()
    assert new.generation > old.generation and new.vectors is not None and new.vectors is not old.vectors
    assert len(new.vectors) == len(new.chunks) == qa.store.count(new.collection)
    _same_as_chroma(qa, new)


@pytest.mark.parametrize("damage", ["truncate vectors.f32", "delete vectors.slots.npy", "flip vectors.f32"])
def test_a_damaged_vector_file_falls_back_to_the_store(make_qa, corpus, caplog, damage):
    qa = make_qa(corpus)
    qa.reindex()
    expected = [qa.ask(q).answer for q in QUESTIONS]
    [folder] = (qa.settings.index_dir / "cache").glob("snapshot-*")
    action, _, name = damage.partition(" ")
    path = folder / name
    if action == "truncate":
        path.write_bytes(path.read_bytes()[:-1536])
    elif action == "flip":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x40
        path.write_bytes(bytes(data))
    else:
        path.unlink()
    cache = SnapshotCache(qa.settings.index_dir / "cache")
    with caplog.at_level(logging.DEBUG, logger="newsqa.index.store.snapshot_cache"):
        assert cache.load(qa.store.read_state()) is None
    assert any(
        r.levelno == logging.DEBUG and "ignoring the snapshot cache" in r.message for r in caplog.records
    )
    reopened = make_qa(corpus, qa.settings.index_dir)
    assert [reopened.ask(q).answer for q in QUESTIONS] == expected
    assert reopened.snapshot().vectors is not None  # saved anew


def test_a_reindex_saves_the_cache_before_the_switch(make_qa, corpus, monkeypatch):
    from newsqa.index.store.chroma import ChromaStore

    qa = make_qa(corpus)
    qa.reindex()
    assert list((qa.settings.index_dir / "cache").glob("snapshot-1-*"))  # before any question
    reads: list[str] = []
    embeddings = ChromaStore.embeddings
    monkeypatch.setattr(ChromaStore, "embeddings", lambda s, *a: reads.append(a[0]) or embeddings(s, *a))
    monkeypatch.setattr(ChromaStore, "query", lambda *a, **k: pytest.fail("Chroma was queried"))
    server = make_qa(corpus, qa.settings.index_dir)  # as a serving process would open it
    assert server.ask(QUESTIONS[0]).citations
    (corpus / "kuwait.txt").write_text(
        "Kuwait base\n\nAbout 13,500 US troops are in Kuwait.\n", encoding="utf-8"
    )
    qa.reindex()
    assert len(reads) == 1  # the reindex saved the new generation's vectors; the server read none
    monkeypatch.setattr("newsqa.index.store.live.STATE_CHECK_S", 0.0)
    assert "13,500" in server.ask("How many US troops are in Kuwait?").answer
    assert len(reads) == 1
