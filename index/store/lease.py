"""The reindex lease: one reindex at a time among processes sharing a Chroma server.

In embedded mode a file lock in INDEX_DIR does this (`locks.index_dir_lock`). A Chroma
server offers no lock and no compare-and-swap, but creating a collection is atomic: the
server's catalogue refuses a second collection of the same name. So a lease is an empty
collection `newsqa_lease_<n>` whose metadata holds its owner and its expiry (Unix seconds):

- Take: find the highest-numbered lease. If it is live (not expired, not released), another
  process is reindexing: ReindexBusyError. Otherwise create lease n+1. Of several processes
  trying at once exactly one creates it; the others get ReindexBusyError.
- Hold: a thread pushes the expiry forward every TTL_S/4. A process holds the lease while its
  collection is the highest-numbered one, carries its owner id and has not expired; the
  indexer checks that after every batch and right before it switches the index state.
- Release: set the expiry to 0. The next holder deletes the leases below its own.

Limits, stated honestly: expiry uses each process's wall clock, so clocks must agree to well
within TTL_S (NTP does). A holder that stalls for longer than TTL_S (frozen VM, server
unreachable for that long) loses the lease to the next reindex and aborts at its next check,
but the check and the state switch are two requests, not one transaction: a holder that stalls
exactly between them could still switch the state after losing the lease. The state it writes
is complete (an atomic switch to an index it built in full); the other run's work is then
redone by the next reindex.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from newsqa.index.errors import ReindexBusyError, StoreUnavailableError
from newsqa.index.store.chroma import LEASE_PREFIX, ChromaStore

log = logging.getLogger(__name__)

TTL_S = 60.0


def _number(name: str) -> int:
    return int(name[len(LEASE_PREFIX) :])


class ReindexLease:
    """A held lease; use `ReindexLease.take(store)` as a context manager."""

    def __init__(self, store: ChromaStore, name: str, owner: str) -> None:
        self.store, self.name, self.owner = store, name, owner
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew_loop, name=f"renew {name}", daemon=True)

    @classmethod
    def take(cls, store: ChromaStore) -> ReindexLease:
        """The lease, or ReindexBusyError when another process holds it."""
        leases = store.leases()
        top = max(leases, key=_number, default=None)
        if top is not None and _live(leases[top]):
            raise ReindexBusyError(
                f"another process ({leases[top].get('owner')}) is reindexing the {store.where}; "
                "wait for it to finish"
            )
        name = f"{LEASE_PREFIX}{_number(top) + 1 if top else 1}"
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        if not store.create_lease(name, {"owner": owner, "expires": time.time() + TTL_S}):
            raise ReindexBusyError(f"another process just started reindexing the {store.where}; wait for it")
        lease = cls(store, name, owner)
        try:
            lease.check()  # a slower contender may have created a lower number after we listed
        except ReindexBusyError:
            store.drop(name)
            raise
        for old in leases:
            store.drop(old)
        lease._renewer.start()
        return lease

    def check(self) -> None:
        """ReindexBusyError unless this process still holds the lease."""
        leases = self.store.leases()
        mine = leases.get(self.name)
        top = max(leases, key=_number, default=None)
        if mine is None or mine.get("owner") != self.owner or top != self.name or not _live(mine):
            raise ReindexBusyError(
                f"this reindex lost its lease on the {self.store.where} (it stalled for over "
                f"{TTL_S:.0f} s and another reindex took over); nothing was switched"
            )

    def _renew_loop(self) -> None:
        while not self._stop.wait(TTL_S / 4):
            try:
                self.store.update_lease(self.name, {"owner": self.owner, "expires": time.time() + TTL_S})
            except StoreUnavailableError as exc:  # keep trying; check() decides if it expired
                log.warning("could not renew the reindex lease: %s", exc)

    def release(self) -> None:
        self._stop.set()
        if self._renewer.is_alive():
            self._renewer.join()
        try:
            self.check()
            self.store.update_lease(self.name, {"owner": self.owner, "expires": 0.0})
        except (ReindexBusyError, StoreUnavailableError) as exc:  # expires by itself
            log.warning("could not release the reindex lease %s: %s", self.name, exc)

    def __enter__(self) -> ReindexLease:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _live(metadata: dict[str, Any]) -> bool:
    return float(metadata.get("expires", 0.0)) > time.time()
