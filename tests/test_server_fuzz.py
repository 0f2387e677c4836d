"""Fuzz the HTTP API from its own OpenAPI schema (schemathesis, in-process ASGI): no request
may get a 500, and every response must conform to the schema. Real assistant, real model."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("fastapi")

from hypothesis import HealthCheck, settings  # noqa: E402

from qa.assistant import Assistant  # noqa: E402
from qa.server import create_app  # noqa: E402

pytestmark = pytest.mark.slow

EXAMPLES = 25   # per operation and phase: the whole file stays well under a minute


@pytest.fixture(scope="module")
def api_schema(qa_index):
    with Assistant.open(qa_index) as assistant:
        assistant.warm_up()
        app = create_app(assistant, warm_up=False)
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
def test_api_conforms_to_its_schema(case):
    response = case.call_and_validate()
    assert response.status_code < 500, response.text
