"""The request and response bodies of the HTTP API (``qa serve``) that ``qa.models`` lacks.

Hits, answers and articles are served as the package's own models; these add the requests,
the search envelope, the health report and the error body. The OpenAPI schema is built from them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from qa.assistant import MAX_K
from qa.engine.question import MAX_CHARS
from qa.models import Answer, Hit, IndexInfo

MAX_HISTORY = 20      # earlier answers a client may send with a question
MAX_SOURCE_CHARS = 200

# Non-blank (the pattern) and at most MAX_CHARS: what Assistant.ask and .search accept. Blank
# is what Python strips: Unicode white space and the separators U+001C-U+001F, which a JSON
# Schema (ECMA) or Rust ``\s`` does not count; U+0085 is named for ECMA.
QuestionText = Annotated[str, Field(min_length=1, max_length=MAX_CHARS,
                                    pattern=r"[^\s\x1c-\x1f\x85]")]
SourceName = Annotated[str, Field(min_length=1, max_length=MAX_SOURCE_CHARS)]


def _iso_day(value: object) -> object:
    if isinstance(value, (int, float)):  # lax pydantic would read a number as a timestamp
        raise ValueError("give the day as a string, YYYY-MM-DD")
    return value


def _whole_number(value: object) -> object:
    # JSON Schema counts 10.0 as an integer; "10" and true are still the wrong type (strict)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _integral(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _earlier_answer(value: object) -> object:
    # Answer is a lax model (it would read "end": false as 0); a client's history is read as
    # strictly as the request itself.
    if not isinstance(value, dict):
        return value
    try:
        return Answer.model_validate_json(json.dumps(_integral(value)), strict=True)
    except (ValidationError, ValueError) as exc:
        if not isinstance(exc, ValidationError):
            raise ValueError(f"not a valid answer ({exc})") from None
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{where}: {first['msg']}" if where else first["msg"]) from None


Day = Annotated[dt.date, BeforeValidator(_iso_day)]
EarlierAnswer = Annotated[Answer, BeforeValidator(_earlier_answer)]
Count = Annotated[int, BeforeValidator(_whole_number), Field(strict=True)]


class _Request(BaseModel):
    # Unknown fields are an error: a misspelt filter must not be silently ignored.
    model_config = ConfigDict(extra="forbid")

    source: SourceName | None = Field(None, description="Only articles from this outlet.")
    published_from: Day | None = Field(None, description="Only articles published on or "
                                           "after this day (YYYY-MM-DD).")
    published_to: Day | None = Field(None, description="Only articles published on or "
                                         "before this day (YYYY-MM-DD).")


class SearchRequest(_Request):
    """Ranked passages for a query."""

    query: QuestionText
    k: Count = Field(5, ge=1, le=MAX_K, description="How many hits to return.")


class SearchResponse(BaseModel):
    """What ``qa search --json`` prints: the query and its hits, best first."""

    query: str
    hits: list[Hit]


class AskRequest(_Request):
    """A question, optionally with the earlier turns of the conversation."""

    question: QuestionText
    today: Day | None = Field(None, description="The day relative time words in the question "
                              "('last week', 'this month') are read against (YYYY-MM-DD); "
                              "default: the newest article's date.")
    history: list[EarlierAnswer] | None = Field(
        None, max_length=MAX_HISTORY,
        description="Earlier answers of this conversation, oldest first, exactly as /ask "
        "returned them; a follow-up question ('What did he say?') is read in their light.")


class Health(BaseModel):
    """Liveness, and the index being served."""

    status: Literal["ok"] = "ok"
    index: IndexInfo


class ErrorDetail(BaseModel):
    field: str = Field(description="Where the problem is, e.g. 'k' or 'history.0.question'.")
    problem: str


class ErrorBody(BaseModel):
    """Every 4xx and 5xx response: a code, a one-line message saying what is wrong and what
    to do, and for invalid requests the fields at fault."""

    error: str = Field(description="bad_json, invalid_request, not_found, method_not_allowed, "
                       "body_too_large, unsupported_media_type, bad_request, unavailable or "
                       "internal.")
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)
