"""The collection's ``meta`` point: identity (model, dimension), generation, term statistics,
the writer's lock and the journal of the batch in flight.

One writer at a time: the lock is a payload field of this point, ``{owner, host, pid,
expires}``, renewed by every batch. Qdrant has no compare-and-set, so a writer that found the
lock free writes its own, waits a moment and reads it back: of two that raced, the one whose
write landed last keeps it, the other sees a stranger's owner and backs off. A lock whose
holder is a dead process on this host, or whose time ran out (another host's writer killed),
is taken over.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any

from embeddings.errors import IndexStoreError
from embeddings.qdrant import schema
from embeddings.qdrant.connection import Connection

LOCK_SECONDS = 900  # a live writer renews its lock at every batch; a killed one's expires
SETTLE = 0.2        # how long a writer waits before reading back the lock it wrote
POLL = 1.0


class MetaPoint:
    def __init__(self, conn: Connection, collection: str) -> None:
        self._conn = conn
        self._collection = collection

    def read(self) -> dict[str, Any]:
        found = self._conn.call(self._conn.client.retrieve, self._collection, [schema.META_ID],
                                with_payload=True, with_vectors=False)
        if not found or not found[0].payload:
            raise IndexStoreError(f"{self._conn.url} holds no newsqa index (its meta point is "
                                  "missing): index into another collection")
        return dict(found[0].payload)

    def update(self, **fields: Any) -> None:
        self._conn.call(self._conn.client.set_payload, self._collection, payload=fields,
                        points=[schema.META_ID], wait=True)

    # -- the writer's lock -----------------------------------------------------------------
    def acquire(self, wait: bool | float) -> str:
        """Take the lock (waiting up to ``wait`` seconds, forever if True) and return the
        owner token; :class:`IndexStoreError` naming the holder if it stays taken."""
        owner = uuid.uuid4().hex
        deadline = None if wait is True else time.monotonic() + float(wait or 0)
        while True:
            held = self.read().get("lock")
            if held is None or _stale(held):
                self.update(lock=_lock(owner))
                time.sleep(SETTLE)
                held = self.read().get("lock")
                if held and held.get("owner") == owner:
                    return owner
            if deadline is not None and time.monotonic() >= deadline:
                held = held or {}
                raise IndexStoreError(
                    f"{self._conn.url} is being written by process {held.get('pid')} on "
                    f"{held.get('host')}: wait for it to finish, or pass --wait")
            time.sleep(POLL)

    def renew(self, owner: str) -> None:
        held = self.read().get("lock")
        if not held or held.get("owner") != owner:
            raise IndexStoreError(f"{self._conn.url}: this writer's lock was taken over (it "
                                  "was silent for too long); run the command again")
        self.update(lock=_lock(owner))

    def release(self, owner: str) -> None:
        held = self.read().get("lock")
        if held and held.get("owner") == owner:
            self.update(lock=None)


def _lock(owner: str) -> dict[str, Any]:
    return {"owner": owner, "host": socket.gethostname(), "pid": os.getpid(),
            "expires": time.time() + LOCK_SECONDS}


def _stale(lock: dict[str, Any]) -> bool:
    if float(lock.get("expires", 0)) < time.time():
        return True
    if lock.get("host") == socket.gethostname():
        try:
            os.kill(int(lock["pid"]), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, KeyError, ValueError, TypeError):
            return False
    return False
