"""One reindex at a time: per process, then per index directory (embedded) or Chroma server (a lease)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from newsqa.index.config import Settings
from newsqa.index.errors import ReindexBusyError, ReindexError


@contextmanager
def exclusive_reindex(
    settings: Settings, store: Callable[[], Any], in_process: threading.Lock
) -> Iterator[Any]:
    """Hold every lock a reindex needs; yields the lease's `check` in server mode, else None.

    `store` gives the Chroma store, asked for only in server mode: an embedded store is not opened
    here, so a rebuild can still set an unreadable one aside."""
    if not in_process.acquire(blocking=False):
        raise ReindexBusyError("a reindex is already running; wait for it to finish")
    try:
        if settings.server_mode:
            from newsqa.index.store.lease import ReindexLease

            with ReindexLease.take(store()) as lease:
                yield lease.check
        else:
            with index_dir_lock(settings):
                yield None
    finally:
        in_process.release()


@contextmanager
def index_dir_lock(settings: Settings) -> Iterator[None]:
    """Across processes on one machine: one reindex at a time per index directory."""
    import fcntl

    try:
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(settings.index_dir / "reindex.lock", "w")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ReindexError(
            f"cannot write to the index directory {settings.index_dir} ({exc.strerror}): is it "
            "read-only or the disk full? The previous index is unchanged",
            path=str(settings.index_dir),
        ) from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReindexBusyError(
                f"another process is reindexing {settings.index_dir}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def reindex_running(settings: Settings) -> bool:
    """Embedded mode: whether a process (this one included) holds the reindex lock of INDEX_DIR."""
    import fcntl

    try:
        handle = open(settings.index_dir / "reindex.lock", "rb")  # noqa: SIM115 - closed below
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
