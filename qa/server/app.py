"""The HTTP API over an assistant (any :class:`qa.AssistantAPI`): ``create_app(assistant)``.

Calls into the assistant run on a pool of ``workers`` threads (default one, in arrival order:
the assistant promises safety from one thread at a time). The event loop stays free to accept,
validate and reject requests meanwhile. See bench/serve.py for what more workers gain.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from corpus.errors import QAError
from corpus.models import Article
from qa.errors import ArticleNotFound, QuestionError
from qa.interfaces import AssistantAPI
from qa.models import Answer
from qa.server.schemas import (
    AskRequest,
    ErrorBody,
    ErrorDetail,
    Health,
    SearchRequest,
    SearchResponse,
)

MAX_BODY_BYTES = 256 * 1024   # a question with 20 answers of history is well under this
MAX_ID_CHARS = 200
DOCS_ASSETS = "/docs-assets"   # where the Swagger UI and ReDoc scripts are served
log = logging.getLogger("qa.server")
T = TypeVar("T")

_ERRORS: dict[int, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not valid JSON."},
    413: {"model": ErrorBody, "description": f"The body is over {MAX_BODY_BYTES} bytes."},
    415: {"model": ErrorBody, "description": "The body is not sent as application/json."},
    422: {"model": ErrorBody, "description": "A field is missing, of the wrong type or out "
          "of range; `details` names it."},
    500: {"model": ErrorBody, "description": "A bug in the server; the message says which."},
    503: {"model": ErrorBody, "description": "The index cannot be read."},
}


class Worker:
    """The thread(s) that run every call into the assistant."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.threads,
                                            thread_name_prefix="qa-assistant")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class BodyLimit:
    """ASGI middleware: a 413 for a body over ``max_bytes``, read no further than that (a
    Content-Length over the limit is refused before reading any of it)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int,
                 reject: Callable[[str], ASGIApp]) -> None:
        self.app, self.max_bytes, self.reject = app, max_bytes, reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self._too_large(int(declared), scope, receive, send)
        chunks, total = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return None
            chunks.append(message.get("body", b""))
            total += len(chunks[-1])
            if total > self.max_bytes:
                return await self._too_large(None, scope, receive, send)
            if not message.get("more_body", False):
                break
        pending: list[Message] = [{"type": "http.request", "body": b"".join(chunks),
                                   "more_body": False}]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        return await self.app(scope, replay, send)

    async def _too_large(self, size: int | None, scope: Scope, receive: Receive,
                         send: Send) -> None:
        size_text = f"{size} bytes, " if size is not None else ""
        await self.reject(f"the body is {size_text}over the limit of {self.max_bytes} bytes: "
                          "send a shorter question or less history")(scope, receive, send)


def create_app(assistant: AssistantAPI, *, max_body_bytes: int = MAX_BODY_BYTES,
               warm_up: bool = True, workers: int = 1) -> FastAPI:
    """The API serving ``assistant``. With ``warm_up`` the model loads at start-up (in the
    lifespan), so the first request is as quick as the rest. ``workers`` > 1 runs requests in
    parallel: only for an assistant safe to share between threads. The caller closes it."""
    worker = Worker(workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warm_up:
            await worker.run(assistant.warm_up)
        try:
            yield
        finally:
            worker.close()

    # FastAPIOffline: /docs and /redoc with their scripts served from here, not from a CDN.
    app = FastAPIOffline(title="newsqa", version="0.1.0", lifespan=lifespan,
                         summary="Ask questions of a folder of news articles; answers cite "
                         "sentences.", static_url=DOCS_ASSETS)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes,
                       reject=lambda message: _error_response(413, "body_too_large", message))
    _add_error_handlers(app)

    @app.get("/health", response_model=Health, responses=_pick(500, 503))
    async def health() -> Health:
        """Liveness, and what the index holds."""
        return Health(index=await worker.run(assistant.info))

    @app.post("/search", response_model=SearchResponse,
              responses=_pick(400, 413, 415, 422, 500, 503))
    async def search(body: SearchRequest) -> SearchResponse:
        """The `k` best passages for `query`, as `qa search --json` prints them."""
        query = body.query.strip()
        hits = await worker.run(assistant.search, query, body.k, source=body.source,
                                published_from=body.published_from,
                                published_to=body.published_to)
        return SearchResponse(query=query, hits=hits)

    @app.post("/ask", response_model=Answer, responses=_pick(400, 413, 415, 422, 500, 503))
    async def ask(body: AskRequest) -> Answer:
        """The answer to `question`, citing the sentences it rests on (as `qa ask --json`)."""
        return await worker.run(assistant.ask, body.question, history=body.history,
                                source=body.source, published_from=body.published_from,
                                published_to=body.published_to, today=body.today)

    @app.get("/articles/{article_id}", response_model=Article,
             responses={404: {"model": ErrorBody, "description": "No article with that id."},
                        **_pick(422, 500, 503)})
    async def article(article_id: str = Path(min_length=1, max_length=MAX_ID_CHARS)) -> Article:
        """An article's metadata and cleaned text: `text[start:end]` of a citation is its
        quote."""
        return await worker.run(assistant.article, article_id)

    return app


def _pick(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: _ERRORS[code] for code in codes}


def _error_response(status: int, code: str, message: str,
                    details: list[ErrorDetail] | None = None) -> JSONResponse:
    body = ErrorBody(error=code, message=message, details=details or [])
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "path", "query"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(QAError, _qa_error)
    app.add_exception_handler(Exception, _crash)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        why = (bad_json.get("ctx") or {}).get("error", "JSON decode error")
        at = bad_json["loc"][-1] if len(bad_json["loc"]) > 1 else "?"
        return _error_response(400, "bad_json", f"the body is not valid JSON ({why}, "
                               f"character {at}): send one JSON object")
    if isinstance(exc.body, bytes) and exc.body:  # FastAPI parses JSON bodies only
        kind = request.headers.get("content-type", "none")
        return _error_response(415, "unsupported_media_type", f"the body is sent as {kind}: "
                               "send a JSON object with Content-Type: application/json")
    return _invalid_fields(errors)


def _invalid_fields(errors: list[Any]) -> JSONResponse:
    details = [ErrorDetail(field=_field(tuple(e.get("loc", ()))),
                           problem=e.get("msg", "").removeprefix("Value error, "))
               for e in errors]
    if [(d.field, e.get("type")) for d, e in zip(details, errors)] == [("body", "missing")]:
        return _error_response(422, "invalid_request", "the body is empty: send a JSON "
                               "object (see /docs for its fields)", details)
    first = details[0] if details else ErrorDetail(field="body", problem="invalid")
    more = f" (and {len(details) - 1} more problems)" if len(details) > 1 else ""
    return _error_response(422, "invalid_request", f"{first.field}: {first.problem}{more}; "
                           "see /docs for the request format", details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
        exc.status_code, "bad_request" if exc.status_code < 500 else "internal")
    message = str(exc.detail)
    if exc.status_code == 400 and message == "There was an error parsing the body":
        code = "bad_json"
        message = "the body could not be read (is it UTF-8 JSON?): send one JSON object"
    elif exc.status_code == 404 and message == "Not Found":
        message = f"no such endpoint: {request.url.path} (see /docs)"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path} (see /docs)"
    response = _error_response(exc.status_code, code, message)
    response.headers.update(exc.headers or {})
    return response


async def _qa_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ArticleNotFound):
        return _error_response(404, "not_found", str(exc))
    if isinstance(exc, QuestionError):
        return _error_response(422, "invalid_request", str(exc))
    log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    return _error_response(503, "unavailable", str(exc))


async def _crash(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _error_response(500, "internal", f"{type(exc).__name__}: {exc} (a bug: the "
                           "server log has the traceback)")
