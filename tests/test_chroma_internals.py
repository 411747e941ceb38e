"""The chromadb internals the store relies on, and the line between chromadb's failures and our bugs.

store/chroma.py touches chromadb privates in two places (forgetting a cached client, bounding the HTTP
client's timeout). These tests fail loudly when a chromadb release moves them.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.api.types import validate_ids
from chromadb.errors import ChromaError

from newsqa.index.config import Settings
from newsqa.index.errors import IndexCorruptError
from newsqa.index.store.chroma import ChromaStore, http_session, set_aside

from .chroma_server import ChromaServer


def test_chromadb_caches_embedded_clients_where_set_aside_forgets_them(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    ChromaStore(settings)
    path = str(settings.index_dir.resolve() / "chroma")
    assert isinstance(SharedSystemClient._identifier_to_system, dict)
    assert isinstance(SharedSystemClient._identifier_to_refcount, dict)
    assert path in SharedSystemClient._identifier_to_system
    moved = set_aside(settings)
    assert path not in SharedSystemClient._identifier_to_system
    assert path not in SharedSystemClient._identifier_to_refcount
    assert moved.is_dir() and not Path(path).exists()


@pytest.mark.server
def test_chromadb_http_client_has_the_session_whose_timeout_we_bound(
    chroma_server: ChromaServer, tmp_path: Path
) -> None:
    settings = Settings(index_dir=tmp_path / "unused", chroma_timeout_s=7, **chroma_server.settings)
    session = http_session(ChromaStore(settings)._client)
    assert session is not None, "chromadb's Client._server._session moved: CHROMA_TIMEOUT_S has no effect"
    assert session.timeout == httpx.Timeout(7)


def _raise(exc: BaseException) -> None:
    raise exc


@pytest.fixture
def store(tmp_path: Path) -> ChromaStore:
    return ChromaStore(Settings(index_dir=tmp_path / "index"))


def test_chromadb_errors_become_domain_errors(store: ChromaStore) -> None:
    with pytest.raises(IndexCorruptError, match="rebuild"):
        store.call("read", _raise, ChromaError("boom"))
    with pytest.raises(IndexCorruptError):
        store.call("read", validate_ids, [])  # chromadb's own plain ValueError


@pytest.mark.parametrize("bug", [TypeError("bad arg"), ValueError("ours"), KeyError("k"), RuntimeError()])
def test_our_own_bugs_propagate_instead_of_asking_for_a_rebuild(store: ChromaStore, bug: Exception) -> None:
    with pytest.raises(type(bug)):
        store.call("read", _raise, bug)


def test_chromadb_lists_segments_where_remove_orphans_reads_them(tmp_path: Path) -> None:
    """chromadb 1.5 leaves a deleted collection's vector folder behind; its `segments` table says which
    folders are live, and `remove_orphans` deletes the others."""
    import sqlite3
    from contextlib import closing

    from newsqa.index.store import folder

    store = ChromaStore(Settings(index_dir=tmp_path / "index"))
    for name in ("newsqa_chunks_1", "newsqa_chunks_2"):
        store._collection(name).add(ids=["a#0@v"], embeddings=[[0.1, 0.2, 0.3]], documents=["text"])
    before = {p.name for p in folder.segment_folders(store.path)}
    store.drop("newsqa_chunks_1")
    with closing(sqlite3.connect(store.path / folder.DATABASE)) as db:
        live = {row[0] for row in db.execute("SELECT id FROM segments")}
    assert {p.name for p in folder.segment_folders(store.path)} == before  # chromadb left it
    assert len(before - live) == 1
    store.remove_orphans()
    assert {p.name for p in folder.segment_folders(store.path)} == before & live
    assert store.count("newsqa_chunks_2") == 1
