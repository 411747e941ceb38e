"""`LiveIndex`: the index as one process sees it while others may change it.

The store opens on first use and reopens when another process deleted or replaced the index folder;
the snapshot (the generation questions are answered from) is re-read at most every STATE_CHECK_S and
reloaded when a reindex, here or anywhere, switched generations. A read that finds the index changed
underneath it is tried once more; "no index" becomes "being built" while another process builds one.
`QA` (service.py) holds one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from newsqa.index.config import Settings
from newsqa.index.errors import (
    IndexBuildingError,
    IndexChangedError,
    IndexCorruptError,
    IndexNotFoundError,
    NewsqaError,
)
from newsqa.index.store.locks import reindex_running
from newsqa.index.store.snapshot import Snapshot
from newsqa.index.store.snapshot_cache import SnapshotCache
from newsqa.index.store.state import IndexConfig, IndexState, Mark, outdated_format

log = logging.getLogger(__name__)

STATE_CHECK_S = 1.0  # how often the snapshot looks for a reindex made by another process
REREAD_PAUSE_S = 0.2  # before reading an index again that another process was changing


class LiveIndex:
    """The store and the current snapshot of one process; thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Any = None
        self._snapshot: Snapshot | None = None
        # Embedded only: a server's index is shared by machines (see snapshot_cache.py).
        self._cache = None if settings.server_mode else SnapshotCache(settings.index_dir.resolve() / "cache")
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._checking = threading.Lock()  # held by the thread looking for another process's reindex

    @property
    def store(self) -> Any:
        """The store, for reading: IndexNotFoundError rather than creating an empty index."""
        return self._open(create=False)

    @property
    def loaded(self) -> bool:
        """Whether a snapshot was loaded yet (the first question opens it)."""
        return self._snapshot is not None

    def _open(self, *, create: bool) -> Any:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from newsqa.index.store.chroma import ChromaStore

                    self._store = ChromaStore(self.settings, create=create)
        return self._store

    def live_store(self, *, create: bool = False) -> Any:
        """The store, reopened first when another process deleted or replaced the index folder."""
        store = self._store
        if store is not None and store.replaced():
            with self._lock:
                if self._store is store:
                    log.info("the %s was replaced by another process: reopening it", store.where)
                    store.forget()
                    self._store, self._snapshot = None, None
        return self._open(create=create)

    def has_index(self) -> bool:
        """Whether an index was built, known by its mark without parsing the state; an index without a
        mark reads its state (a damaged one raises IndexCorruptError: it is not "no index")."""
        try:
            store = self.live_store()
            return store.read_mark() is not None or store.read_state() is not None
        except IndexNotFoundError:
            return False

    def snapshot(self) -> Snapshot:
        """The live index generation, reloaded when a reindex (anywhere) switched it or another
        process replaced the index folder; IndexNotFoundError says when one is being built."""
        now = time.monotonic()
        current = self._snapshot
        if current is not None and now - self._checked_at < STATE_CHECK_S:
            return current
        # One thread looks at a time; the others answer from the snapshot they have. Each look reads
        # the state's generation alone: parsing the whole state (every article's versions and
        # metadata) in every answering thread each second grew `newsqa serve` at 16x BBC from
        # 556 MB to 1,484 MB over 200 questions (bench/README.md).
        if current is not None and not self._checking.acquire(blocking=False):
            return current
        try:
            mark = self.live_store().read_mark()
            if (
                current is not None
                and mark is not None
                and mark[:2] == (current.generation, current.collection)
            ):
                self._checked_at = now
                return current
            # A process serving from the snapshot cache finds it by the mark alone and never parses
            # the state (165 MB held at 16x BBC); without a cache (or a mark), it reads the state.
            cached = self._cached(mark, current)
            state = None if cached is not None else self.live_store().read_state()
        except (IndexNotFoundError, IndexCorruptError) as exc:
            raise self._while_building(exc) from exc
        finally:
            if current is not None:
                self._checking.release()
        self._checked_at = now
        if cached is not None:
            return self._switch(cached.generation, cached.config, lambda _: cached)
        if state is None:
            raise self._while_building(
                IndexNotFoundError(f"no index yet in the {self.store.where}: run `newsqa index` first")
            )
        found = state
        return self._switch(
            found.generation,
            found.config,
            lambda previous: Snapshot.load(self.store, found, previous=previous, cache=self._cache),
        )

    def _cached(self, mark: Mark | None, current: Snapshot | None) -> Snapshot | None:
        """The snapshot of the state `mark` names from the snapshot cache, when it is a new one there."""
        if (
            self._cache is None
            or mark is None
            or (current is not None and mark.generation == current.generation)
        ):
            return None
        return Snapshot.from_mark(mark, self._cache)

    def _switch(
        self, generation: int, config: IndexConfig | None, make: Callable[[Snapshot | None], Snapshot]
    ) -> Snapshot:
        """The snapshot of `generation`: the current one, or `make(current)` in its place."""
        with self._lock:
            current = self._snapshot
            if current is None or generation != current.generation:
                if outdated_format(config):
                    log.warning(
                        "the index was built by an earlier newsqa: sources show no dates and time "
                        "filters find nothing until `newsqa index` rebuilds it"
                    )
                current = self._snapshot = make(current)
        return current

    def prepare(self, state: IndexState) -> None:
        """Save the snapshot cache of `state` before a reindex switches to it (embedded mode), so that
        every process finds it there at the switch: one that had to save it itself would read the
        vectors from Chroma, which loads its whole HNSW index into that process.

        It is made from the live generation's snapshot (only what changed is read from Chroma): the
        one in memory, else (a `newsqa index` process) the one the cache holds, if it does."""
        if self._cache is None:
            return
        store = self.live_store()
        previous = self._snapshot
        if previous is None:  # not switched yet: the live generation is the one `state` replaces
            mark = store.read_mark()
            if mark is not None and mark.digest:
                previous = Snapshot.from_mark(mark, self._cache)
            elif (live := store.read_state()) is not None:
                previous = Snapshot.cached(live, self._cache)
        Snapshot.save(store, state, previous, self._cache)

    def recheck(self) -> None:
        """Make the next snapshot() read the index state again (after a reindex, say)."""
        self._checked_at = 0.0

    def reopening(self, read: Callable[[], Any]) -> Any:
        """`read()`, once more after re-reading the index state when the index changed underneath it
        (a reindex dropped the collection being read, or another process replaced the folder)."""
        try:
            return read()
        except (IndexChangedError, IndexCorruptError) as exc:
            log.debug("the index changed while it was read (%s); reading it again", exc)
            self.recheck()
            time.sleep(REREAD_PAUSE_S)
            return read()

    def _while_building(self, exc: IndexNotFoundError | IndexCorruptError) -> NewsqaError:
        """`exc`, or that another process is building the index when one is (embedded mode)."""
        if self.settings.server_mode or not reindex_running(self.settings):
            return exc
        return IndexBuildingError(
            f"the index in {self.settings.index_dir} is being built by another process; ask again in a moment"
        )

    def set_aside_if_unreadable(self) -> None:
        """Before a rebuild: an unreadable embedded index is renamed aside (never deleted), not fatal."""
        try:
            self.live_store(create=True).read_state()
        except IndexCorruptError as exc:
            if self.settings.server_mode:
                raise
            from newsqa.index.store.chroma import set_aside

            self._store, self._snapshot = None, None
            moved = set_aside(self.settings)
            if self._cache is not None:
                self._cache.clear()  # generations restart at 1: the old ones would never be pruned
            log.warning("%s\nmoved it aside to %s (delete it once you don't need it); rebuilding", exc, moved)

    def close(self) -> None:
        self._snapshot = None
        self._store = None
