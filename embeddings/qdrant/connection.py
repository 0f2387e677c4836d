"""One client per store URL, and every call to it translated into one-line errors.

Local mode (``qdrant:PATH``) lets one client at a time open a folder (qdrant-client takes a
file lock), so the clients of one process are shared per folder and counted; its collections
are plain Python objects, so calls to them are serialised with a lock. A server client is made
per store and needs no lock. qdrant-client is imported here only, when a store is opened.
"""

from __future__ import annotations

import sqlite3
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

from embeddings.errors import IndexStoreError
from embeddings.qdrant.url import StoreURL

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

T = TypeVar("T")
TIMEOUT = 60  # seconds per request to a server
_shared: dict[str, tuple[QdrantClient, threading.RLock, int]] = {}
_shared_lock = threading.Lock()


class Connection:
    """A client for ``url`` (shared in local mode); :meth:`close` gives it back."""

    def __init__(self, url: StoreURL) -> None:
        self.url = url
        self._closed = False
        self._lock: threading.RLock | None = None
        if url.path is not None:
            self.client, self._lock = _open_local(url)
        else:
            self.client = _open_server(url)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` (a client method), under the local lock; a failure of the
        engine or the network is an :class:`IndexStoreError` naming the store."""
        with self._lock or nullcontext(), translated(self.url):
            return fn(*args, **kwargs)

    @property
    def lock(self) -> threading.RLock | None:
        return self._lock

    def tune_local(self, collection: str) -> None:
        """Local mode keeps a collection's points in SQLite and commits each point on its own:
        in WAL mode with ``synchronous=NORMAL`` that is ~70x quicker (300 points: 4.7 s ->
        0.06 s here), and a killed process still leaves a consistent file (a power cut may lose
        the last commits, which the journal in the meta point then repairs). Reaches into
        qdrant-client's local storage; does nothing if that is not where it expects."""
        if self.url.path is None or self._lock is None:
            return
        with self._lock:
            local = getattr(self.client, "_client", None)
            found = getattr(local, "collections", {}).get(collection)
            conn = getattr(getattr(found, "storage", None), "storage", None)
            if isinstance(conn, sqlite3.Connection):
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.url.path is not None:
            _release_local(self.url)
        else:
            with translated(self.url):
                self.client.close()


def _open_local(url: StoreURL) -> tuple[QdrantClient, threading.RLock]:
    key = str(url.path)
    with _shared_lock:
        if key in _shared:
            client, lock, n = _shared[key]
            _shared[key] = (client, lock, n + 1)
            return client, lock
        from qdrant_client import QdrantClient

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "local mode is not for large..."
                client = QdrantClient(path=key, force_disable_check_same_thread=True)
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise IndexStoreError(
                    f"{url} is open in another process (local mode serves one process at a "
                    "time): close that process, or use a Qdrant server") from None
            raise IndexStoreError(f"cannot open {url}: {exc}") from None
        except OSError as exc:
            raise IndexStoreError(f"cannot open {url} ({exc.strerror}): choose a writable "
                                  "folder") from None
        lock = threading.RLock()
        _shared[key] = (client, lock, 1)
        return client, lock


def _release_local(url: StoreURL) -> None:
    key = str(url.path)
    with _shared_lock:
        client, lock, n = _shared[key]
        if n > 1:
            _shared[key] = (client, lock, n - 1)
            return
        del _shared[key]
        with lock:
            client.close()


def _open_server(url: StoreURL) -> QdrantClient:
    from qdrant_client import QdrantClient

    with translated(url):
        return QdrantClient(url=url.endpoint, api_key=url.api_key, timeout=TIMEOUT,
                            check_compatibility=False)  # a request of its own, and a warning


@contextmanager
def translated(url: StoreURL) -> Iterator[None]:
    """Errors of qdrant-client and of the network as one-line :class:`IndexStoreError`."""
    from qdrant_client.http.exceptions import ApiException, UnexpectedResponse

    try:
        yield
    except UnexpectedResponse as exc:
        detail = exc.content.decode("utf-8", "replace")[:200] if exc.content else exc.reason_phrase
        hint = (f": set {'QA_QDRANT_API_KEY'} to the server's API key"
                if exc.status_code in (401, 403) else "")
        raise IndexStoreError(f"{url} answered {exc.status_code} ({detail}){hint}") from None
    except ApiException as exc:
        raise IndexStoreError(f"cannot reach {url} ({str(exc)[:200]}): is the Qdrant server "
                              "running, and the URL right?") from None
    except OSError as exc:
        raise IndexStoreError(f"{url}: {exc.strerror or exc}") from None
    except Exception as exc:
        if type(exc).__module__.startswith(("grpc", "httpx", "httpcore")):
            raise IndexStoreError(f"cannot reach {url} ({type(exc).__name__}: "
                                  f"{str(exc)[:200]})") from None
        raise
