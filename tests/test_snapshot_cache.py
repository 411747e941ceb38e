"""The snapshot cache in INDEX_DIR/cache: a new process skips reading chunks and building BM25."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from newsqa.index.store.chroma import ChromaStore
from newsqa.index.store.document_table import DiskDocuments
from newsqa.index.store.snapshot import Snapshot
from newsqa.index.store.snapshot_cache import SnapshotCache
from newsqa.index.store.state import Mark, mark_of, state_digest, state_document
from newsqa.index.types import Answer

QUESTIONS = [
    "How many US troops are in Iraq?",
    "Who is the Russian president's special representative for the Syrian settlement?",
    "What did the central bank decide about interest rates?",
]


@pytest.fixture
def store_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Collections whose chunks were read from the store (a cache hit reads none)."""
    reads: list[str] = []
    records = ChromaStore.records

    def counting(self: ChromaStore, name: str, ids: list[str] | None = None):  # type: ignore[no-untyped-def]
        reads.append(name)
        return records(self, name, ids)

    monkeypatch.setattr(ChromaStore, "records", counting)
    return reads


def _cached(index_dir: Path) -> list[Path]:
    return sorted((index_dir / "cache").glob("snapshot-*"))


def _damage(index_dir: Path, damage: str) -> None:
    """Do `damage` ("flip a byte in F", "truncate F", "delete F") to file F of the one cache."""
    [folder] = _cached(index_dir)
    action, _, name = damage.partition(" ")
    path = folder / name.rpartition(" ")[2]
    if action == "flip":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    elif action == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.unlink()


def _untimed(answer: Answer) -> Answer:
    return replace(answer, timings_ms={})


def _same_snapshot(a: Snapshot, b: Snapshot) -> None:
    assert list(a.chunks) == list(b.chunks)
    assert (a.chunk_days == b.chunk_days).all()
    assert (a.generation, a.collection, a.versions, a.documents) == (
        b.generation,
        b.collection,
        b.versions,
        b.documents,
    )
    for query in ["troops in Iraq", "Syrian settlement", "interest rates", "zebra", "the"]:
        assert a.lexical.search(query, 10) == b.lexical.search(query, 10)
    for stem in ["troop", "iraq", "bank", "zebra"]:
        assert (a.lexical.known(stem), a.lexical.idf(stem)) == (b.lexical.known(stem), b.lexical.idf(stem))


def test_a_new_process_answers_from_the_cache_as_from_the_store(make_qa, corpus, store_reads):
    first = make_qa(corpus)
    first.reindex()
    answers = [first.ask(q) for q in QUESTIONS]
    assert len(_cached(first.settings.index_dir)) == 1
    store_reads.clear()

    second = make_qa(corpus, first.settings.index_dir)
    assert [_untimed(second.ask(q)) for q in QUESTIONS] == [_untimed(a) for a in answers]
    assert store_reads == []  # the chunks came from the cache
    fresh = Snapshot.load(second.store, second.store.read_state())
    _same_snapshot(second.snapshot(), fresh)


def test_a_process_serving_from_the_cache_never_parses_the_state(make_qa, corpus, monkeypatch):
    first = make_qa(corpus)
    first.reindex()
    state = first.store.read_state()
    assert first.store.read_mark() == Mark(
        state.generation, state.collection, state_digest(state_document(state))
    )
    answers = [first.ask(q) for q in QUESTIONS]

    def unread(self: ChromaStore) -> None:
        raise AssertionError("the state document was read")

    monkeypatch.setattr(ChromaStore, "read_state", unread)
    second = make_qa(corpus, first.settings.index_dir)
    assert second.has_index()
    assert [_untimed(second.ask(q)) for q in QUESTIONS] == [_untimed(a) for a in answers]
    snapshot = second.snapshot()
    assert isinstance(snapshot.documents, DiskDocuments)
    assert dict(snapshot.documents) == dict(state.documents) and dict(snapshot.versions) == state.versions
    assert snapshot.config == state.config
    assert sorted(snapshot.published(), key=str) == sorted(
        (d.published for d in state.documents.values()), key=str
    )
    assert [s["source"] for s in second.sources()] == sorted(state.documents)
    assert second.stats()["articles"] == len(state.documents)


def test_the_mark_is_the_state_collections_metadata_and_a_reindex_mends_a_stale_or_missing_one(
    make_qa, corpus
):
    qa = make_qa(corpus)
    qa.reindex()
    state = qa.store.read_state()
    records = qa.store._state_collection()
    assert qa.store._state_collection().metadata == dict(mark_of(state)._asdict())
    # As the previous newsqa wrote it: the mark on the record only.
    records.modify(metadata={"written_by": "an older newsqa"})
    assert qa.store.read_mark() == mark_of(state) and qa.store.read_mark(legacy=False) is None
    assert make_qa(corpus, qa.settings.index_dir).reindex().embedded == 0
    assert qa.store._state_collection().metadata == dict(mark_of(state)._asdict())
    # As an older newsqa wrote it: no mark on the collection, and none with a digest on the record.
    records.modify(metadata={"written_by": "an older newsqa"})
    records.delete(ids=["current"])  # an upsert would keep the digest
    records.add(
        ids=["current"],
        documents=[state_document(state)],
        metadatas=[{"generation": state.generation, "collection": state.collection}],
        embeddings=[[1.0]],
    )
    assert qa.store.read_mark() == Mark(state.generation, state.collection, "")
    fresh = make_qa(corpus, qa.settings.index_dir)
    assert fresh.ask(QUESTIONS[0]).citations  # served, reading the state
    assert fresh.reindex().embedded == 0
    assert qa.store.read_mark() == mark_of(state) and qa.store.read_state() == state
    # As a reindex that crashed between writing the state and its mark would leave it.
    records.modify(metadata={**mark_of(state)._asdict(), "generation": state.generation - 1})
    assert qa.store.read_mark() != mark_of(state)
    assert fresh.reindex().embedded == 0
    assert qa.store.read_mark() == mark_of(state)


@pytest.mark.parametrize(
    "damage",
    [
        "flip a byte in chunks.sqlite3",
        "truncate days.npy",
        "truncate bm25.data.npy",
        "flip a byte in documents.sqlite3",
        "delete bm25.tokens.npy",
        "truncate manifest.json",
    ],
)
def test_a_damaged_cache_is_ignored_and_saved_again(make_qa, corpus, store_reads, damage):
    qa = make_qa(corpus)
    qa.reindex()
    expected = qa.ask(QUESTIONS[0]).answer
    _damage(qa.settings.index_dir, damage)
    store_reads.clear()

    reopened = make_qa(corpus, qa.settings.index_dir)
    assert reopened.ask(QUESTIONS[0]).answer == expected
    assert store_reads  # read from the store, not from the damaged cache
    cache = SnapshotCache(qa.settings.index_dir / "cache")
    state = qa.store.read_state()
    saved = cache.load(state)
    assert saved is not None  # saved anew
    _same_snapshot(Snapshot.load(qa.store, state, cache=cache), Snapshot.load(qa.store, state))


def test_a_cache_for_another_state_is_not_used(make_qa, corpus):
    qa = make_qa(corpus)
    qa.reindex()
    qa.ask(QUESTIONS[0])
    cache = SnapshotCache(qa.settings.index_dir / "cache")
    state = qa.store.read_state()
    assert cache.load(state) is not None
    # Same generation, another document: e.g. a rebuild into a fresh folder with the same counter.
    assert cache.load(replace(state, updated_at="2000-01-01T00:00:00Z")) is None
    [folder] = _cached(qa.settings.index_dir)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["generation"] == state.generation


def test_a_reindex_in_another_process_invalidates_the_cache(make_qa, corpus, store_reads, monkeypatch):
    reader = make_qa(corpus)
    reader.reindex()
    reader.ask(QUESTIONS[0])
    [old] = _cached(reader.settings.index_dir)
    (corpus / "kuwait.txt").write_text(
        "Kuwait base expands\n\nAbout 13,500 US troops are stationed in Kuwait.\n", encoding="utf-8"
    )
    make_qa(corpus, reader.settings.index_dir).reindex()  # as another process would
    store_reads.clear()

    fresh = make_qa(corpus, reader.settings.index_dir)
    assert "13,500" in fresh.ask("How many US troops are in Kuwait?").answer
    # The reindex saved the new generation's cache before switching to it: the old one was not used,
    # and no process reads the store for the new one.
    assert store_reads == []
    [new] = _cached(reader.settings.index_dir)
    assert new != old and not old.exists()  # the old generation's cache was pruned
    monkeypatch.setattr("newsqa.index.store.live.STATE_CHECK_S", 0.0)  # the reader looks at the state again
    assert "13,500" in reader.ask("How many US troops are in Kuwait?").answer


def test_server_mode_keeps_no_cache_in_the_index_folder(make_qa, corpus, chroma_server):
    qa = make_qa(corpus, **{**chroma_server.settings, "chroma_database": "snapshot_cache"})
    qa.reindex()
    assert qa.ask(QUESTIONS[0]).citations
    assert not (qa.settings.index_dir / "cache").exists()


@pytest.fixture
def chroma_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int | None]]:
    """What was read from Chroma's chunk collections: ("records" or "embeddings", how many ids;
    None: every record)."""
    reads: list[tuple[str, int | None]] = []
    for kind in ("records", "embeddings"):
        read = getattr(ChromaStore, kind)

        def counting(self, name, ids=None, read=read, kind=kind):  # type: ignore[no-untyped-def]
            reads.append((kind, None if ids is None else len(ids)))
            return read(self, name, ids) if kind == "records" or ids is not None else read(self, name)

        monkeypatch.setattr(ChromaStore, kind, counting)
    return reads


def _correct_one_article(corpus: Path) -> str:
    article = sorted(corpus.glob("*.txt"))[0]
    text = article.read_text(encoding="utf-8")
    article.write_text(text + "\n\nA late correction: the talks resume in May in Muscat.\n", encoding="utf-8")
    return article.name


def _same_files_as_a_cold_load(qa, tmp_path: Path) -> None:
    """The live generation's cache holds, byte for byte, what a snapshot read whole from Chroma saves."""
    state = qa.store.read_state()
    [folder] = _cached(qa.settings.index_dir)
    cold_cache = SnapshotCache(tmp_path / "cold")
    cold = Snapshot.load(qa.store, state, cache=cold_cache)
    _same_snapshot(Snapshot.load(qa.store, state, cache=SnapshotCache(folder.parent)), cold)
    [cold_folder] = sorted(cold_cache.folder.glob("snapshot-*"))
    names = {p.name for p in folder.iterdir()}
    assert names == {p.name for p in cold_folder.iterdir()}
    for name in sorted(names - {"chunks.sqlite3", "manifest.json"}):  # SQLite's bytes are its own
        assert (folder / name).read_bytes() == (cold_folder / name).read_bytes(), name


@pytest.mark.parametrize("process", ["serving", "new"])
def test_a_one_article_reindex_reads_only_that_article_and_saves_what_a_cold_load_saves(
    make_qa, corpus, tmp_path, chroma_reads, process
):
    qa = make_qa(corpus)
    qa.reindex()
    qa.ask(QUESTIONS[0])  # a serving process has the live snapshot, from the cache, in memory
    source = _correct_one_article(corpus)
    # A new process (`newsqa index`) has none: it starts from the live generation's saved snapshot.
    reindexer = qa if process == "serving" else make_qa(corpus, qa.settings.index_dir)
    chroma_reads.clear()
    assert reindexer.reindex().updated == 1
    changed = reindexer.store.read_state().documents[source].chunks
    assert chroma_reads == [("records", changed), ("embeddings", changed)]
    _same_files_as_a_cold_load(reindexer, tmp_path)
    assert "Muscat" in reindexer.ask("Where do the talks resume in May?").answer


@pytest.mark.parametrize(
    "damage", ["truncate bm25.tokens.npy", "flip a byte in vectors.f32", "delete lexical.json"]
)
def test_a_reindex_after_the_live_cache_was_damaged_reads_everything_from_the_store(
    make_qa, corpus, tmp_path, chroma_reads, damage
):
    first = make_qa(corpus)
    first.reindex()
    [folder] = _cached(first.settings.index_dir)
    _damage(first.settings.index_dir, damage)
    _correct_one_article(corpus)
    reindexer = make_qa(corpus, first.settings.index_dir)
    chroma_reads.clear()
    assert reindexer.reindex().updated == 1
    assert chroma_reads == [("records", None), ("embeddings", reindexer.snapshot().chunks.__len__())]
    assert not folder.exists()
    _same_files_as_a_cold_load(reindexer, tmp_path)
