"""One reindex at a time: per process, then per index directory (embedded) or Chroma server (a lease)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from newsqa.index.config import Settings
from newsqa.index.errors import ReindexBusyError, ReindexError

LOCK_FILE = "reindex.lock"


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
    """Across processes on one machine: one reindex at a time per index directory. The holder writes
    its pid into the lock file (emptied on release) so that readers can tell a reindex is running."""
    import fcntl

    try:
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        # "a", not "w": opening must not empty the pid of a holder
        handle = open(settings.index_dir / LOCK_FILE, "a")  # noqa: SIM115 - closed below
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
            handle.truncate(0)
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def reindex_running(settings: Settings) -> bool:
    """Embedded mode: whether a live process (this one included) holds the reindex lock of INDEX_DIR.
    Read from the pid in the lock file: probing the lock itself could make a real reindex fail."""
    try:
        pid = int((settings.index_dir / LOCK_FILE).read_text(encoding="ascii").strip() or 0)
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False  # killed while reindexing
    except PermissionError:
        return True  # alive, another user's
    return True
