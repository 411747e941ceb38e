"""The Chroma store: the only module that imports chromadb.

Layout inside one Chroma client (embedded `PersistentClient` in INDEX_DIR/chroma, or an
`HttpClient` in server mode):
- `newsqa_state`: one record, id "current", whose document is the JSON index state (which
  chunk collection is live, which article versions it holds). Writing it is one SQLite
  transaction, so switching to a new index state is atomic, and every process sharing the
  store sees the switch.
- `newsqa_chunks_<n>`: the chunks. A record id is `source#n@version` (version = a prefix of the
  article's sha256), so a reindex can add an article's new chunks beside the old ones, switch
  the state, and only then delete the old ones. Records whose version is not in the state are
  invisible to queries.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromadb
import httpx
import numpy as np
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError, NotFoundError

from newsqa.index.config import Settings
from newsqa.index.errors import IndexCorruptError, StoreUnavailableError
from newsqa.index.runtime import llama_index_core
from newsqa.index.store import folder
from newsqa.index.store.deadline import within
from newsqa.index.store.records import chunk_from, chunk_metadata, record_id
from newsqa.index.store.state import IndexState, Mark, state_digest, state_document
from newsqa.index.types import Chunk

log = logging.getLogger(__name__)

STATE_COLLECTION = "newsqa_state"
STATE_ID = "current"
CHUNK_PREFIX = "newsqa_chunks_"
LEASE_PREFIX = "newsqa_lease_"
# Chroma keeps a collection's writes in its log until the vector segment has taken in
# `sync_threshold` of them (1,000 by default), and each write of the state holds the whole state
# document (31 MB at 16x BBC): every reindex grew chroma.sqlite3 by one. At 2 the log keeps at most
# the last one or two (bench/README.md, "Chroma's log of the state").
STATE_LOG_WRITES = 2

_PAGE = 2000
# chromadb's own failures: its error classes, and what it lets through from HTTP (server mode) and the
# file system. Anything else raised while talking to it is a bug of ours and propagates.
_CHROMA_ERRORS = (ChromaError, httpx.HTTPError, OSError)
# chromadb also raises plain ValueError ("Could not connect to a Chroma server") and AttributeError (a
# client that a failed start left half-built) from its own code: those count only when raised there.
_CHROMA_BUILTINS = (ValueError, AttributeError)


def _state_log() -> dict[str, Any]:
    """The state collection's configuration; a new dict each time, as chromadb adds to the one given."""
    return {"hnsw": {"batch_size": STATE_LOG_WRITES, "sync_threshold": STATE_LOG_WRITES}}


class ChromaStore:
    """Chunks and index state in Chroma, embedded or over HTTP."""

    def __init__(self, settings: Settings, *, create: bool = True) -> None:
        """Open the store; with `create` False, IndexNotFoundError instead of creating an empty one."""
        self.settings = settings
        self.path = settings.index_dir.resolve() / "chroma"  # absolute: chromadb caches clients by path
        database = settings.chroma_database
        self.where = (
            f"Chroma server at {settings.chroma_host}:{settings.chroma_port}"
            + ("" if database == "default_database" else f" (database {database})")
            if settings.server_mode
            else f"index directory {settings.index_dir}"
        )
        if not settings.server_mode:
            folder.check_damage(self.path, self.where, create=create)
        self._identity: tuple[int, int] | None = None
        self._client = self._connect()
        self._identity = None if settings.server_mode else folder.identity(self.path)
        self._vector_stores: dict[str, Any] = {}  # llama-index ChromaVectorStores, for writing
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        s = self.settings
        try:
            if s.server_mode:
                return self._connect_server(chroma_settings)
            if not (self.path / folder.DATABASE).exists():
                _forget_client(self.path)  # one this process cached holds the files of a deleted folder
            self.path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(self.path), settings=chroma_settings)
        except OSError as exc:
            raise IndexCorruptError(
                f"cannot open the {self.where}: {exc}; {folder.REBUILD_ADVICE}", path=str(s.index_dir)
            ) from exc
        except _CHROMA_ERRORS as exc:
            raise self._translate(exc) from exc
        except _CHROMA_BUILTINS as exc:
            if not _raised_by_chromadb(exc):
                raise
            raise self._translate(exc) from exc

    def _connect_server(self, chroma_settings: ChromaSettings) -> Any:
        s = self.settings
        server = ChromaSettings(
            anonymized_telemetry=chroma_settings.anonymized_telemetry,
            allow_reset=chroma_settings.allow_reset,
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host=s.chroma_host,
            chroma_server_http_port=s.chroma_port,
            chroma_server_ssl_enabled=s.chroma_ssl,
            chroma_server_headers=s.chroma_headers or None,
        )

        def connect() -> Any:
            # Ask an admin client first: a `chromadb.Client` of a missing database raises from its
            # constructor and drops its connection, open, for the garbage collector to close.
            admin = chromadb.AdminClient(server)
            try:
                admin.get_database(s.chroma_database)
            except NotFoundError:  # a fresh server, or a new CHROMA_DATABASE
                log.info("creating the Chroma database %s on %s", s.chroma_database, self.where)
                try:
                    admin.create_database(s.chroma_database)
                except ChromaError:  # another process created it first
                    log.debug("database %s already exists", s.chroma_database, exc_info=True)
            finally:
                _close_admin(admin)
            return chromadb.Client(server, database=s.chroma_database)

        try:
            client = within(s.chroma_timeout_s, connect, name="newsqa-chroma-connect")
        except TimeoutError as exc:  # an OSError, which _connect would read as a broken folder
            raise self._translate(TimeoutError(f"{exc} (CHROMA_TIMEOUT_S)")) from exc
        _set_timeout(client, s.chroma_timeout_s)
        client.heartbeat()
        return client

    def _translate(self, exc: Exception) -> Exception:
        if self.settings.server_mode:
            return StoreUnavailableError(
                f"cannot reach the {self.where} ({type(exc).__name__}: {exc}); "
                "check CHROMA_HOST/CHROMA_PORT and that `chroma run` is up"
            )
        return folder.failure(exc, self.path, self.where, self._identity)

    def replaced(self) -> bool:
        """Whether the embedded index folder was deleted or replaced since this store opened it."""
        return not self.settings.server_mode and folder.identity(self.path) != self._identity

    def forget(self) -> None:
        """Let go of an embedded index replaced on disk, so that opening its path reads the new one."""
        with self._lock:
            self._vector_stores.clear()
        if not self.settings.server_mode:
            _forget_client(self.path)

    def remove_orphans(self, *, compact: bool = False) -> int:
        """Embedded: delete what deleted collections left on disk; the bytes freed (0 for a server)."""
        return 0 if self.settings.server_mode else folder.remove_orphans(self.path, compact=compact)

    def call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a Chroma operation, turning chromadb's failures into domain errors (ours propagate)."""
        try:
            return fn(*args, **kwargs)
        except _CHROMA_ERRORS as exc:
            log.debug("chroma %s failed", what, exc_info=True)
            raise self._translate(exc) from exc
        except _CHROMA_BUILTINS as exc:
            if not _raised_by_chromadb(exc):
                raise
            log.debug("chroma %s failed", what, exc_info=True)
            raise self._translate(exc) from exc

    # -- state -------------------------------------------------------------------------------

    def _state_collection(self) -> Any:
        return self.call(
            "state", self._client.get_or_create_collection, STATE_COLLECTION, configuration=_state_log()
        )

    def _bound_state_log(self, collection: Any) -> None:
        """Give a state collection an older newsqa made (Chroma's defaults) the short log of
        `_state_log()`; Chroma applies it from the next process that writes the state."""
        hnsw = (getattr(collection, "configuration_json", None) or {}).get("hnsw") or {}
        if hnsw.get("sync_threshold", 0) > STATE_LOG_WRITES:
            self.call("write state", collection.modify, configuration=_state_log())

    def read_state(self) -> IndexState | None:
        """The current index state, or None when nothing was ever indexed."""
        got = self.call("read state", self._state_collection().get, ids=[STATE_ID], include=["documents"])
        if not got["ids"]:
            return None
        try:
            return IndexState.from_json(json.loads(got["documents"][0]))
        except (TypeError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
            raise IndexCorruptError(
                f"the index state in the {self.where} is damaged and cannot be read; {folder.REBUILD_ADVICE}"
            ) from exc

    def read_mark(self, *, legacy: bool = True) -> Mark | None:
        """The current state's generation, collection and digest, read without its document (which
        names every article: 165 MB parsed at 35,000 articles); None when nothing was indexed, or the
        state was written by a newsqa that did not record them.

        Read from the state collection's own metadata: any read of its record made Chroma replay the
        collection's unflushed log, which holds the last state documents whole (+320 MB in a process
        at 16x BBC). A state written before the mark moved there has it on its record, read there
        unless `legacy` is False."""
        collection = self._state_collection()
        mark = _mark(self.call("read state", lambda: collection.metadata))
        if mark is None and legacy:
            got = self.call("read state", collection.get, ids=[STATE_ID], include=["metadatas"])
            mark = _mark((got["metadatas"] or [None])[0] if got["ids"] else None)
        return mark

    def write_state(self, state: IndexState) -> None:
        """Atomically replace the index state, then its mark (read_mark): the mark names the state
        only once the state is there. A crash between the two leaves the previous mark, so serving
        processes keep the previous generation, whose chunks a reindex drops only after both; the
        next `newsqa index` writes the mark again (ingest/indexer.py)."""
        doc = state_document(state)
        mark = {"generation": state.generation, "collection": state.collection, "digest": state_digest(doc)}
        collection = self._state_collection()
        self.call(
            "write state",
            collection.upsert,
            ids=[STATE_ID],
            documents=[doc],
            metadatas=[mark],
            embeddings=[[1.0]],
        )
        self.call("write state", collection.modify, metadata=mark)
        self._bound_state_log(collection)

    # -- chunk collections -------------------------------------------------------------------

    def chunk_collections(self) -> list[str]:
        names = self.call("list", self._client.list_collections)
        names = [c if isinstance(c, str) else c.name for c in names]
        return sorted(n for n in names if n.startswith(CHUNK_PREFIX))

    def _collection(self, name: str) -> Any:
        return self.call(
            "open", self._client.get_or_create_collection, name, metadata={"hnsw:space": "cosine"}
        )

    def vector_store(self, name: str) -> Any:
        """llama-index's ChromaVectorStore over a collection: chunks are written through it."""
        with self._lock:
            if name not in self._vector_stores:
                llama_index_core()
                from llama_index.vector_stores.chroma import ChromaVectorStore

                self._vector_stores[name] = ChromaVectorStore(chroma_collection=self._collection(name))
            return self._vector_stores[name]

    def drop(self, name: str) -> None:
        with self._lock:
            self._vector_stores.pop(name, None)
        try:
            self.call("drop", self._client.delete_collection, name)
        except IndexCorruptError:
            log.warning("could not drop collection %s", name)

    def add(self, name: str, chunks: list[Chunk], embeddings: list[list[float]], versions: list[str]) -> None:
        """Add chunks (with their embeddings) under versioned record ids, through llama-index."""
        llama_index_core()
        from llama_index.core.schema import TextNode

        nodes = [
            TextNode(
                id_=record_id(chunk.source, chunk.n, version),
                text=chunk.text,
                embedding=embedding,
                metadata=chunk_metadata(chunk),
                excluded_embed_metadata_keys=list(chunk_metadata(chunk)),
                excluded_llm_metadata_keys=list(chunk_metadata(chunk)),
            )
            for chunk, embedding, version in zip(chunks, embeddings, versions, strict=True)
        ]
        if nodes:
            self.call("add", self.vector_store(name).add, nodes)

    def delete(self, name: str, ids: list[str]) -> None:
        collection = self._collection(name)
        for start in range(0, len(ids), _PAGE):
            self.call("delete", collection.delete, ids=ids[start : start + _PAGE])

    def query(
        self, name: str, embedding: list[float], n: int, days: tuple[int, int] | None = None
    ) -> list[tuple[str, Chunk, float]]:
        """Nearest chunks: (record id, chunk, similarity), best first; with `days` (first, last as
        records.published_day numbers), only chunks of articles published in that window."""
        # Read straight from chromadb, as records() does (llama-index, which writes the records, costs
        # a second to import); the similarity is the one llama-index's ChromaVectorStore.query gives,
        # exp(-cosine distance), which the answer model's chooser was fitted on.
        where = None
        if days is not None:
            where = {"$and": [{"published_day": {"$gte": days[0]}}, {"published_day": {"$lte": days[1]}}]}
        result = self.call(
            "query",
            self._collection(name).query,
            query_embeddings=[embedding],
            n_results=n,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        rows = zip(
            result["ids"][0],
            result["documents"][0],
            result["metadatas"][0],
            result["distances"][0],
            strict=True,
        )
        return [
            (rid, chunk_from(meta or {}, doc or ""), math.exp(-float(dist))) for rid, doc, meta, dist in rows
        ]

    def records(self, name: str, ids: list[str] | None = None) -> Iterator[tuple[str, Chunk]]:
        """Every record of a collection, or those of `ids` that exist: (record id, chunk)."""
        collection = self._collection(name)
        if ids is not None:
            for start in range(0, len(ids), _PAGE):
                got = self.call(
                    "read", collection.get, ids=ids[start : start + _PAGE], include=["documents", "metadatas"]
                )
                for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                    yield rid, chunk_from(meta or {}, doc or "")
            return
        offset = 0
        while True:
            got = self.call(
                "read", collection.get, include=["documents", "metadatas"], limit=_PAGE, offset=offset
            )
            for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                yield rid, chunk_from(meta or {}, doc or "")
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE

    def embeddings(self, name: str, ids: list[str]) -> Iterator[np.ndarray]:
        """The stored vectors of `ids`, in that order, a page (rows, dim) at a time; ValueError when
        one is missing. Embedded, this loads the collection's HNSW index into the process."""
        collection = self._collection(name)
        for start in range(0, len(ids), _PAGE):
            page = ids[start : start + _PAGE]
            got = self.call("read vectors", collection.get, ids=page, include=["embeddings"])
            found = dict(zip(got["ids"], got["embeddings"], strict=True))
            missing = [rid for rid in page if rid not in found]
            if missing:
                raise ValueError(f"{len(missing)} records have no stored vector, {missing[0]} first")
            yield np.asarray([found[rid] for rid in page], dtype=np.float32)

    def record_ids(self, name: str) -> list[str]:
        collection = self._collection(name)
        ids: list[str] = []
        while True:
            got = self.call("read ids", collection.get, include=[], limit=_PAGE, offset=len(ids))
            ids.extend(got["ids"])
            if len(got["ids"]) < _PAGE:
                return ids

    def count(self, name: str) -> int:
        return int(self.call("count", self._collection(name).count))

    # -- leases: empty collections used as markers (see store/lease.py) ----------------------

    def leases(self) -> dict[str, dict[str, Any]]:
        """Every lease collection: name → metadata."""
        found = self.call("list", self._client.list_collections)
        return {c.name: dict(c.metadata or {}) for c in found if c.name.startswith(LEASE_PREFIX)}

    def create_lease(self, name: str, metadata: dict[str, Any]) -> bool:
        """Create a lease collection; False when one of that name exists (the catalogue decides)."""
        try:
            self.call("create lease", self._client.create_collection, name, metadata=metadata)
            return True
        except (IndexCorruptError, StoreUnavailableError):  # "already exists" is a bare ChromaError
            if name in self.leases():
                return False
            raise

    def update_lease(self, name: str, metadata: dict[str, Any]) -> None:
        collection = self.call("open lease", self._client.get_collection, name)
        self.call("renew lease", collection.modify, metadata=metadata)


def set_aside(settings: Settings) -> Path:
    """Rename an unreadable embedded index folder to `chroma.broken-<time>` (never deleted); the new path."""
    path = settings.index_dir.resolve() / "chroma"
    _forget_client(path)
    target = path.with_name(f"chroma.broken-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"chroma.broken-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
    try:
        path.rename(target)
    except OSError as exc:
        raise IndexCorruptError(
            f"cannot move the unreadable index {path} aside: {exc.strerror}; move or delete it yourself",
            path=str(path),
        ) from exc
    return target


def _raised_by_chromadb(exc: BaseException) -> bool:
    """Whether the innermost frame of `exc`'s traceback is chromadb's own code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = "" if tb is None else str(tb.tb_frame.f_globals.get("__name__", ""))
    return module == "chromadb" or module.startswith("chromadb.")


# -- chromadb internals: the only two places that touch them ---------------------------------------
# Both are checked by tests/test_chroma_internals.py, which fails when a chromadb release changes them
# (pyproject bounds chromadb to the 1.5 series).


def _forget_client(path: Path) -> None:
    """Drop chromadb's cached client of `path`: it keeps one per path in a process and would reopen
    the broken files (no public API forgets a client without closing every other one too)."""
    system = SharedSystemClient._identifier_to_system.pop(str(path), None)
    SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    if system is None:
        return
    try:
        system.stop()
    except _CHROMA_ERRORS:  # a half-open client: stopping it is best effort
        log.debug("stopping the unreadable index's chromadb client failed", exc_info=True)
    except _CHROMA_BUILTINS as exc:
        if not _raised_by_chromadb(exc):
            raise
        log.debug("stopping the unreadable index's chromadb client failed", exc_info=True)


def http_session(client: Any) -> httpx.Client | None:
    """The httpx client under a chromadb HTTP client (`Client._server._session`), or None."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    return session if isinstance(session, httpx.Client) else None


def _close_admin(admin: Any) -> None:
    """Close an AdminClient's connections and drop chromadb's cached System of it: AdminClient has
    no close(), and stopping a System leaves its HTTP session open."""
    session = http_session(admin)
    if session is not None:
        session.close()
    SharedSystemClient._release_system(admin._identifier)


def _set_timeout(client: Any, seconds: float) -> None:
    """chromadb 1.5's HTTP client waits forever on a server that accepts but never answers: bound it
    (chromadb offers no request timeout setting for its Python HTTP client)."""
    session = http_session(client)
    if session is not None:
        session.timeout = httpx.Timeout(seconds)
    else:  # a chromadb that changed its internals: tests/test_chroma_internals.py fails too
        log.warning("cannot set a request timeout on this chromadb's HTTP client")


def _mark(meta: Any) -> Mark | None:
    """The mark in a state record's or collection's metadata, or None when it holds none."""
    if not meta or not isinstance(meta.get("generation"), int) or not isinstance(meta.get("collection"), str):
        return None
    digest = meta.get("digest")
    return Mark(meta["generation"], meta["collection"], digest if isinstance(digest, str) else "")
