"""Limits on the connections ``qa serve`` holds, which uvicorn alone does not enforce.

Uvicorn's keep-alive timeout starts only once a response has been sent: a client that connects
and sends half a request line, or headers without their end, is held for ever. This protocol
(uvicorn's h11 one, plus two limits) closes a connection whose request has not fully arrived
``request_timeout`` seconds after it connected or after its last response, and answers a
connection beyond ``max_connections`` with a 503 at once, before reading anything from it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_HEADER_BYTES = 16 * 1024   # request line and headers unfinished after this: a 400
KEEP_ALIVE = 5           # seconds an idle connection stays open after a response
BACKLOG = 128            # connections the kernel queues before the server accepts them

BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nRetry-After: 1\r\nContent-Length: %d\r\n\r\n%s")
BUSY_BODY = (b'{"error":"unavailable","message":"too many connections at once: '
             b'try again in a moment","details":[]}')


class LimitedH11Protocol(H11Protocol):
    """Uvicorn's h11 protocol with a deadline for each request and a cap on connections."""

    request_timeout = 10.0
    max_connections = 64

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(BUSY % (len(BUSY_BODY), BUSY_BODY))
            transport.close()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):  # the request is all here
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
            self.transport.close()


def limited_protocol(*, request_timeout: float,
                     max_connections: int) -> type[LimitedH11Protocol]:
    """The protocol class for ``uvicorn.Config(http=...)`` with these limits."""
    return type("LimitedH11Protocol", (LimitedH11Protocol,),
                {"request_timeout": request_timeout, "max_connections": max_connections})


def server_limits(*, request_timeout: float, max_connections: int) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config``: the protocol above and uvicorn's own limits.
    ``limit_concurrency`` also counts requests still being answered for clients that have gone
    (uvicorn answers 503 beyond it); the protocol keeps connections within the same bound."""
    return {
        "http": limited_protocol(request_timeout=request_timeout,
                                 max_connections=max_connections),
        "limit_concurrency": max_connections + 1,   # uvicorn's count includes this connection
        "timeout_keep_alive": KEEP_ALIVE,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "backlog": BACKLOG,
    }
