from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from newsqa.index.errors import IndexModelError, ReindexError
from newsqa.index.retrieval.minilm import INT8_MODEL_ID
from newsqa.index.store.chroma import ChromaStore
from newsqa.index.store.records import source_of, version_of
from newsqa.index.store.snapshot import Snapshot

from .conftest import BOTH_STORES, ROOT, cli_in


def _article(path: Path, title: str, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")


def _live_records(qa) -> list[str]:
    state = qa.store.read_state()
    return qa.store.record_ids(state.collection)


def _assert_consistent(qa, corpus: Path) -> None:
    """Every record belongs to a live article version; every article has all its chunks."""
    state = qa.store.read_state()
    records = _live_records(qa)
    assert len(records) == len(set(records))
    for rid in records:
        doc = state.documents[source_of(rid)]
        assert version_of(rid) == doc.version
    on_disk = {p.relative_to(corpus).as_posix() for p in corpus.rglob("*.txt")}
    assert set(state.documents) == on_disk
    assert len(records) == state.chunk_count


def test_first_index_adds_every_article(make_qa, corpus):
    summary = make_qa(corpus).reindex()
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (5, 0, 0, 0)
    assert summary.chunks == summary.embedded > 5


def test_embedding_progress_is_reported_within_a_step_and_ends_at_every_chunk(make_qa, corpus, monkeypatch):
    from newsqa.index.ingest import indexer

    monkeypatch.setattr(indexer, "REPORT_EVERY", 4)
    reports: list[tuple[int, int]] = []
    summary = make_qa(corpus).reindex(
        progress=lambda p: reports.append((p.done, p.total)) if p.stage == "embedding" else None
    )
    done = [d for d, _ in reports]
    assert summary.chunks < indexer.BATCH  # one step, so only the embedder's batches report between
    assert done[0] == 0 and done[-1] == summary.chunks and done == sorted(done)
    assert len(done) >= 1 + -(-summary.chunks // 8)  # a report after each batch of 8 (every 4 chunks)
    assert {t for _, t in reports} == {summary.chunks}


def test_reindex_with_nothing_changed_embeds_nothing(make_qa, corpus):
    qa = make_qa(corpus)
    first = qa.reindex()
    again = qa.reindex()
    assert (again.unchanged, again.embedded, again.chunks) == (5, 0, first.chunks)
    assert again.generation == first.generation


@BOTH_STORES
def test_reindex_embeds_only_new_and_changed_articles(make_qa, corpus):
    qa = make_qa(corpus)
    qa.reindex()
    _article(
        corpus / "new" / "kuwait.txt",
        "Kuwait base expands",
        "About 13,500 US troops are in Kuwait, officials said.",
    )
    changed = sorted(corpus.glob("00*.txt"))[0]
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\nA new closing paragraph was added.\n", encoding="utf-8"
    )
    summary = qa.reindex()
    assert (summary.added, summary.updated, summary.unchanged) == (1, 1, 4)
    assert 0 < summary.embedded < summary.chunks
    assert "13,500" in qa.ask("How many US troops are in Kuwait?").answer
    _assert_consistent(qa, corpus)


def test_snapshot_after_an_incremental_reindex_equals_a_fresh_load(make_qa, corpus):
    qa = make_qa(corpus)
    qa.reindex()
    qa.ask("How many US troops are in Iraq?")  # the snapshot the next one is built from
    first, second = sorted(corpus.glob("00*.txt"))[:2]
    first.write_text(first.read_text(encoding="utf-8") + "\nA closing paragraph.\n", encoding="utf-8")
    second.unlink()
    _article(corpus / "new" / "kuwait.txt", "Kuwait base expands", "About 13,500 US troops are in Kuwait.")
    qa.reindex()
    reloaded = qa.snapshot()
    fresh = Snapshot.load(qa.store, qa.store.read_state())
    assert list(reloaded.chunks) == list(fresh.chunks)
    sources = sorted(reloaded.documents)
    assert [reloaded.article_text(s) for s in sources] == [fresh.article_text(s) for s in sources]
    assert reloaded.lexical.search("troops in Kuwait", 5) == fresh.lexical.search("troops in Kuwait", 5)


@BOTH_STORES
def test_reindex_drops_deleted_article(make_qa, corpus):
    qa = make_qa(corpus)
    qa.reindex()
    assert (
        "Lavrentyev" in qa.ask("Who is the Russian special representative for the Syrian settlement?").answer
    )
    victim = next(p for p in corpus.glob("*.txt") if "Lavrentyev" in p.read_text(encoding="utf-8"))
    victim.unlink()
    summary = qa.reindex()
    assert summary.removed == 1
    assert victim.name not in {s["source"] for s in qa.sources()}
    answer = qa.ask("Who is the Russian special representative for the Syrian settlement?")
    assert all(c.source != victim.name for c in answer.citations)
    _assert_consistent(qa, corpus)


def test_changing_chunk_size_rebuilds_everything(make_qa, corpus, tmp_path, caplog):
    make_qa(corpus).reindex()
    qa = make_qa(corpus, chunk_tokens=120, chunk_overlap=10)
    summary = qa.reindex()
    assert summary.embedded == summary.chunks
    said = "built with CHUNK_TOKENS 200 (now 120), CHUNK_OVERLAP 30 (now 10): rebuilding it whole"
    assert said in caplog.text
    _assert_consistent(qa, corpus)
    assert len(ChromaStore(qa.settings).chunk_collections()) == 1


def test_an_index_of_the_old_int8_model_is_refused_by_ask_and_rebuilt_whole_by_index(
    make_qa, corpus, tmp_path, caplog
):
    built = make_qa(corpus)
    built.reindex()
    state = built.store.read_state()
    # What a newsqa from before the fp32 switch recorded: same chunking, the int8 model's id.
    built.store.write_state(replace(state, config=replace(state.config, embed_model=INT8_MODEL_ID)))
    old = f"built with embedding model {INT8_MODEL_ID} (the int8 MiniLM newsqa bundled until 2026-11"
    with pytest.raises(IndexModelError, match=r"run `newsqa index` to rebuild it") as refused:
        make_qa(corpus).ask("How many US troops are in Iraq?")
    assert old in str(refused.value)

    asked = cli_in(tmp_path, "ask", "How many US troops are in Iraq?")  # tmp_path holds corpus/ and index/
    assert asked.exit_code == 1 and "Traceback" not in asked.output
    errors = [line for line in asked.stderr.splitlines() if line.startswith("error:")]
    assert asked.stdout == "" and len(errors) == 1  # one line, no answer from mixed vectors
    assert errors[0].startswith("error: the index in the index directory") and old in errors[0]

    qa = make_qa(corpus)
    summary = qa.reindex()
    assert f"{old}; now {qa.model_id}): rebuilding it whole" in caplog.text
    assert summary.embedded == summary.chunks and qa.store.read_state().config.embed_model == qa.model_id
    assert "2,500" in qa.ask("How many US troops are in Iraq?").answer
    _assert_consistent(qa, corpus)
    assert len(ChromaStore(qa.settings).chunk_collections()) == 1  # the int8 vectors are gone


class _FailingEmbedder:
    """Delegates to the real model for `good_batches` batches, then fails like a crashed model."""

    def __init__(self, real, good_batches: int) -> None:
        self.real, self.left, self.model_id = real, good_batches, real.model_id

    def get_text_embedding_batch(self, texts):
        if self.left <= 0:
            raise RuntimeError("simulated crash while embedding")
        self.left -= 1
        return self.real.get_text_embedding_batch(texts)

    def get_query_embedding(self, text):
        return self.real.get_query_embedding(text)


@BOTH_STORES
def test_failed_reindex_leaves_the_previous_index_serving(make_qa, corpus, embedder, monkeypatch):
    from newsqa.index.ingest import indexer
    from newsqa.index.service import QA

    monkeypatch.setattr(indexer, "BATCH", 8)
    qa = make_qa(corpus)
    before = qa.reindex()
    for i in range(30):  # enough new chunks for several batches
        _article(
            corpus / "bulk" / f"{i:03d}.txt",
            f"Bulletin {i}",
            f"Report {i} about harbour traffic and weather. " * 20,
        )
    victim = next(p for p in corpus.glob("00*.txt") if "Lavrentyev" in p.read_text(encoding="utf-8"))
    victim.write_text(
        "Changed\n\nThis article was rewritten to talk about something else.\n", encoding="utf-8"
    )
    failing = QA(qa.settings, embedder=_FailingEmbedder(embedder, 1))
    with pytest.raises(ReindexError, match="previous index keeps serving"):
        failing.reindex()
    state = qa.store.read_state()
    assert state.generation == before.generation
    answer = qa.ask("Who is the Russian president's special representative for the Syrian settlement?")
    assert "Lavrentyev" in answer.answer
    assert qa.ask("How many US troops are in Iraq?").citations
    assert len(_live_records(qa)) == before.chunks  # what the failed run wrote was removed
    summary = qa.reindex()
    assert summary.added == 30 and summary.updated == 1
    _assert_consistent(qa, corpus)


def test_a_failed_first_reindex_says_no_index_was_built(make_qa, corpus, embedder):
    from newsqa.index.service import QA

    settings = make_qa(corpus).settings
    with pytest.raises(ReindexError) as info:
        QA(settings, embedder=_FailingEmbedder(embedder, 0)).reindex()
    assert str(info.value).startswith("reindex failed, no index was built: ")
    assert "previous index" not in str(info.value)  # there was none
    assert not make_qa(corpus).has_index()


@pytest.mark.slow
def test_killed_reindex_leaves_the_previous_index_serving(make_qa, corpus, tmp_path):
    qa = make_qa(corpus)
    before = qa.reindex()
    qa.ask("How many US troops are in Iraq?")  # leaves a snapshot cache for the reopened QA
    qa.close()
    for i in range(300):  # one short chunk each: two embedding batches of 256
        _article(
            corpus / "bulk" / f"{i:03d}.txt",
            f"Bulletin {i}",
            f"Report {i} about harbour traffic and weather.",
        )
    env = {
        **os.environ,
        "CORPUS_DIR": str(corpus),
        "INDEX_DIR": str(qa.settings.index_dir),
        "PYTHONPATH": str(ROOT),
    }
    with subprocess.Popen(  # leaving the block closes its stderr pipe
        [sys.executable, "-m", "newsqa", "index", "-v"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    ) as proc:
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                if "wrote" in line and "chunks to" in line:
                    proc.send_signal(signal.SIGKILL)
                    break
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == -signal.SIGKILL

    from newsqa.index.config import Settings
    from newsqa.index.service import QA

    reopened = QA(Settings(corpus_dir=corpus, index_dir=qa.settings.index_dir), embedder=qa.embedder)
    assert reopened.store.read_state().generation == before.generation
    assert "2,500" in reopened.ask("How many US troops are in Iraq?").answer
    assert len(reopened.sources()) == 5
    summary = reopened.reindex()
    assert summary.added == 300
    _assert_consistent(reopened, corpus)


def test_a_serving_process_checks_for_reindexes_by_generation_alone(make_qa, corpus, monkeypatch):
    """Looking for another process's reindex reads the state's generation, not the whole state (every
    article's versions: 165 MB parsed at 16x BBC, in every answering thread, each second); a reindex
    elsewhere is still picked up, from the snapshot cache it saved."""
    serving, other = make_qa(corpus), make_qa(corpus)
    serving.reindex()
    assert not serving.ask("How many US troops are in Iraq?").abstained
    store = serving.index.store
    reads: list[str] = []
    read_state = store.read_state
    monkeypatch.setattr(store, "read_state", lambda: reads.append("state") or read_state())
    for _ in range(3):
        serving.index.recheck()
        serving.snapshot()
    assert reads == []  # unchanged: the generation alone was read
    before = serving.snapshot().generation
    (corpus / "new.txt").write_text(
        "Harbour news\n\nThe harbour of Alba reopened on Monday.", encoding="utf-8"
    )
    other.reindex()
    serving.index.recheck()
    # The reindex saved the new generation's snapshot cache: found by the mark alone, state unread.
    assert serving.snapshot().generation == before + 1 and reads == []
    assert "Monday" in serving.ask("When did the harbour of Alba reopen?").answer
