"""The HTTP API through the real app, on the real sample index with the real model."""

from __future__ import annotations

import asyncio
import datetime as dt
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from qa.assistant import Assistant  # noqa: E402
from qa.models import Answer  # noqa: E402
from qa.server import MAX_BODY_BYTES, create_app  # noqa: E402

pytestmark = pytest.mark.slow

QUESTION = "How many Turkish soldiers were killed in Idlib?"


@pytest.fixture(scope="module")
def assistant(qa_index):
    with Assistant.open(qa_index) as a:
        yield a


@pytest.fixture(scope="module")
def client(assistant):
    with TestClient(create_app(assistant)) as c:  # runs the lifespan: the model loads here
        yield c


def test_health_reports_the_index(client, assistant):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["index"] == assistant.info().model_dump(mode="json")
    assert body["index"]["articles"] == 5 and body["index"]["passages"] > 5


def test_search_returns_what_the_assistant_returns(client, assistant):
    r = client.post("/search", json={"query": "  Turkish observation posts ", "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "Turkish observation posts"
    expected = assistant.search("Turkish observation posts", 3)
    assert body["hits"] == [h.model_dump(mode="json") for h in expected]
    assert len(body["hits"]) == 3
    scores = [h["score"] for h in body["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_search_hits_point_into_the_served_articles(client):
    hits = client.post("/search", json={"query": "NATO solidarity with Turkey"}).json()["hits"]
    assert hits
    for h in hits:
        article = client.get(f"/articles/{h['article_id']}").json()
        assert article["text"][h["start"]:h["end"]] == h["text"]


def test_search_filters(client, assistant):
    sources = assistant.info().sources
    r = client.post("/search", json={"query": "Idlib", "k": 10, "source": sources[0]})
    assert r.status_code == 200 and r.json()["hits"]
    assert {h["source"] for h in r.json()["hits"]} == {sources[0]}
    r = client.post("/search", json={"query": "Idlib", "published_to": "2019-12-31"})
    assert r.status_code == 200 and r.json()["hits"] == []


def test_ask_returns_the_answer_model_exactly(client, assistant):
    r = client.post("/ask", json={"question": QUESTION})
    assert r.status_code == 200
    body = r.json()
    assert body == assistant.ask(QUESTION).model_dump(mode="json")
    assert Answer.model_validate(body).found
    assert "33" in body["answer"]
    for c in body["citations"]:
        article = client.get(f"/articles/{c['article_id']}")
        assert article.status_code == 200
        assert article.json()["text"][c["start"]:c["end"]] == c["quote"]


def test_ask_carries_the_evidence_a_news_reader_weighs(client, assistant):
    body = client.post("/ask", json={"question": QUESTION}).json()
    assert body["short_answer"]["text"] == "33" and body["short_answer"]["citation"] == 1
    assert body["as_of"] == "2020-02-28" and body["independent_outlets"] >= 1
    assert {"attribution", "hedged", "copies"} <= set(body["citations"][0])
    r = client.post("/ask", json={"question": "What did NATO urge last week?",
                                  "today": "2020-03-05"})
    assert r.status_code == 200
    assert "relative to 2020-03-05" in r.json()["time_reading"]
    assert r.json() == assistant.ask("What did NATO urge last week?",
                                     today=dt.date(2020, 3, 5)).model_dump(mode="json")
    r = client.post("/ask", json={"question": QUESTION, "today": "not a day"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "today"


def test_ask_with_history_reads_a_follow_up_in_context(client, assistant):
    first = client.post("/ask", json={"question": "What did NATO urge Russia and the Syrian "
                                                  "regime to do?"}).json()
    follow_up = "What did he say about Turkey?"
    r = client.post("/ask", json={"question": follow_up, "history": [first]})
    assert r.status_code == 200
    expected = assistant.ask(follow_up, history=[Answer.model_validate(first)])
    assert r.json() == expected.model_dump(mode="json")
    # the history reached the assistant: without it the same words get another answer
    assert r.json()["answer"] != assistant.ask(follow_up).answer


def test_article_metadata_and_text(client, assistant):
    hit = assistant.search("Stoltenberg", 1)[0]
    r = client.get(f"/articles/{hit.article_id}")
    assert r.status_code == 200
    assert r.json() == assistant.article(hit.article_id).model_dump(mode="json")
    assert {"id", "title", "text", "source", "published", "url"} <= r.json().keys()


# -- bad input: 4xx with a JSON error, never a 500 ----------------------------------------------
@pytest.mark.parametrize(("path", "body", "status", "field"), [
    ("/ask", {"question": ""}, 422, "question"),
    ("/ask", {"question": " \n\t "}, 422, "question"),
    # separators Python strips as blank, which JSON Schema's \s does not count (found by fuzzing)
    ("/ask", {"question": "\x1f", "published_to": "0029-09-08"}, 422, "question"),
    ("/search", {"query": "\x1c\x85"}, 422, "query"),
    ("/ask", {"question": "why " * 300}, 422, "question"),
    ("/ask", {}, 422, "question"),
    ("/ask", {"question": 42}, 422, "question"),
    ("/ask", {"question": "Who?", "history": "none"}, 422, "history"),
    ("/ask", {"question": "Who?", "history": [{"question": "x"}]}, 422, "history.0"),
    ("/ask", {"question": "Who?", "colour": "red"}, 422, "colour"),
    ("/ask", ["a list"], 422, "body"),
    ("/search", {"query": "Idlib", "k": 0}, 422, "k"),
    ("/search", {"query": "Idlib", "k": 101}, 422, "k"),
    ("/search", {"query": "Idlib", "k": "5"}, 422, "k"),
    ("/search", {"query": "Idlib", "k": True}, 422, "k"),
    ("/search", {"query": "Idlib", "k": 2.5}, 422, "k"),
    ("/search", {"query": "Idlib", "published_from": "28/02/2020"}, 422, "published_from"),
    ("/search", {"query": "Idlib", "published_from": 1582848000}, 422, "published_from"),
    ("/search", {"query": "Idlib", "source": ""}, 422, "source"),
    ("/search", {"k": 3}, 422, "query"),
])
def test_invalid_requests_are_422_naming_the_field(client, path, body, status, field):
    r = client.post(path, json=body)
    assert r.status_code == status, r.text
    err = r.json()
    assert err["error"] == "invalid_request"
    assert field in [d["field"] for d in err["details"]]
    assert err["message"].startswith(field) or err["message"].startswith("the body")


def test_malformed_json_is_400(client):
    r = client.post("/ask", content=b'{"question": "Who', headers={"content-type":
                                                                      "application/json"})
    assert r.status_code == 400
    assert r.json()["error"] == "bad_json"
    assert "not valid JSON" in r.json()["message"]


def test_body_that_is_not_utf8_is_400(client):
    r = client.post("/ask", content=b'{"question": "\xff"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "bad_json"


def test_empty_body_and_wrong_content_type(client):
    r = client.post("/ask", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "empty" in r.json()["message"]
    r = client.post("/ask", content=b'{"question": "Who?"}', headers={"content-type":
                                                                         "text/plain"})
    assert r.status_code == 415
    assert "application/json" in r.json()["message"]


def test_unknown_article_is_404(client):
    r = client.get("/articles/0000000000000000")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"
    assert "0000000000000000" in r.json()["message"]
    assert client.get("/articles/" + "x" * 500).status_code == 422


def test_unknown_path_and_method(client):
    assert client.get("/nowhere").json()["error"] == "not_found"
    r = client.delete("/ask")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_body_over_the_limit_is_413_by_content_length(client):
    big = b'{"question": "' + b"x" * MAX_BODY_BYTES + b'"}'
    r = client.post("/ask", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"] == "body_too_large"
    assert str(MAX_BODY_BYTES) in r.json()["message"]


async def test_a_streamed_body_is_read_no_further_than_the_limit():
    """Chunked (no Content-Length): the middleware stops reading once past the limit."""
    from starlette.responses import JSONResponse

    from qa.server.app import BodyLimit

    received, sent, reached = [], [], []

    async def receive():
        received.append(1)
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}  # endless

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        reached.append(1)

    limit = BodyLimit(app, max_bytes=10_000, reject=lambda m: JSONResponse({"m": m}, 413))
    scope = {"type": "http", "method": "POST", "path": "/ask", "headers": []}
    await limit(scope, receive, send)
    assert sent[0]["status"] == 413 and not reached
    assert len(received) == 11  # 11 000 bytes read, then it stopped

    received.clear()
    scope["headers"] = [(b"content-length", b"10001")]
    sent.clear()
    await limit(scope, receive, send)
    assert sent[0]["status"] == 413 and not received  # refused before reading any of it


def test_a_small_limit_applies(assistant):
    app = create_app(assistant, max_body_bytes=64, warm_up=False)
    with TestClient(app) as c:
        assert c.post("/search", json={"query": "Idlib " * 20}).status_code == 413
        assert c.post("/search", json={"query": "Idlib"}).status_code == 200


# -- the schema ---------------------------------------------------------------------------------
def test_openapi_is_built_from_the_models(client):
    spec = client.get("/openapi.json").json()
    assert {"/health", "/search", "/ask", "/articles/{article_id}"} <= spec["paths"].keys()
    ask = spec["paths"]["/ask"]["post"]
    ok = ask["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Answer"}
    for code in ("400", "413", "422"):
        schema = ask["responses"][code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    schemas = spec["components"]["schemas"]
    assert set(schemas["Answer"]["properties"]) == set(Answer.model_fields)
    assert schemas["SearchRequest"]["properties"]["k"]["maximum"] == 100


# -- concurrency --------------------------------------------------------------------------------
async def test_concurrent_requests_get_their_own_answers(assistant):
    questions = [QUESTION, "What did NATO urge?", "Who is the UN spokesman?",
                 "What did the defence ministers of Turkiye and Russia discuss?"]
    queries = ["Idlib ceasefire", "humanitarian aid", "air strike", "Stoltenberg"]
    expected_answers = {q: assistant.ask(q).model_dump(mode="json") for q in questions}
    expected_hits = {q: [h.model_dump(mode="json") for h in assistant.search(q, 4)]
                     for q in queries}
    app = create_app(assistant, warm_up=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        calls = [c.post("/ask", json={"question": q}) for q in questions * 2]
        calls += [c.post("/search", json={"query": q, "k": 4}) for q in queries * 2]
        responses = await asyncio.gather(*calls)
    for q, r in zip(questions * 2, responses[:8]):
        assert r.status_code == 200 and r.json() == expected_answers[q]
    for q, r in zip(queries * 2, responses[8:]):
        assert r.status_code == 200 and r.json()["hits"] == expected_hits[q]
