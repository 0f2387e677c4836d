"""``qa serve``: the HTTP API over :class:`qa.Assistant` (FastAPI), with its request and response
schemas."""

from qa.server.app import MAX_BODY_BYTES, create_app

__all__ = ["MAX_BODY_BYTES", "create_app"]
