"""/docs and /redoc work offline: every script, style sheet and icon they load is served by the
app itself, none from a CDN. A real headless Chromium renders /docs when one is installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from qa.server import create_app  # noqa: E402


class _Assets(HTMLParser):
    """The URLs a page loads: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        self.urls += [v for k, v in attrs if k == wanted and v]


def _assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module")
def client(qa_assistant):
    return TestClient(create_app(qa_assistant, warm_up=False))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert not re.search(r"https?://", html.replace("http://json-schema.org", "")), \
        "the page names an outside URL"
    urls = _assets(html)
    assert any(u.endswith(".js") for u in urls), urls
    for url in urls:
        assert not urlsplit(url).netloc, url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url
    # what the page then fetches: the schema, with the endpoints
    assert {"/ask", "/search"} <= set(client.get("/openapi.json").json()["paths"])


def test_swagger_ui_script_is_the_real_bundle(client):
    html = client.get("/docs").text
    js = next(u for u in _assets(html) if u.endswith("swagger-ui-bundle.js"))
    body = client.get(js).text
    assert "SwaggerUIBundle" in body and len(body) > 500_000


def _chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="no Chromium installed (apt-get install chromium)")
def test_docs_render_in_a_headless_browser(qa_index):
    from served import Served

    served = Served(qa_index)
    try:
        with tempfile.TemporaryDirectory() as profile:
            dom = subprocess.run(
                [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                 "--virtual-time-budget=15000", "--dump-dom", served.url + "/docs"],
                capture_output=True, text=True, timeout=120,
                env={**os.environ, "HOME": profile}).stdout
    finally:
        served.stop(2)
    # Swagger UI built the page from /openapi.json: the title and each endpoint's block
    assert 'class="swagger-ui' in dom
    assert "newsqa" in dom
    for path in ("/health", "/search", "/ask", "/articles/{article_id}"):
        assert f'data-path="{path}"' in dom, path
