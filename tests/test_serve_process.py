"""``qa serve`` as a real process on a free loopback port: start, query over HTTP, stop."""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from served import Served  # noqa: E402

from qa.assistant import Assistant  # noqa: E402

pytestmark = pytest.mark.slow

QUESTION = "How many Turkish soldiers were killed in Idlib?"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_qa_serve_answers_over_http_and_stops_cleanly(qa_index, sig):
    served = Served(qa_index)
    try:
        status, health = 0, {}
        for _ in range(50):  # it says it is serving once it is: this should pass at once
            try:
                status, health = served.get("/health")
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200 and health["status"] == "ok"
        assert health["index"]["articles"] == 5

        status, answer = served.post("/ask", {"question": QUESTION})
        assert status == 200
        assert answer["found"] and "33" in answer["answer"]
        with Assistant.open(qa_index) as assistant:
            assert answer == assistant.ask(QUESTION).model_dump(mode="json")

        # concurrent clients each get their own result
        queries = ["Idlib ceasefire", "NATO solidarity", "humanitarian aid", "air strike"] * 2
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda q: served.post("/search", {"query": q, "k": 3}),
                                    queries))
        assert all(s == 200 for s, _ in results)
        assert [r["query"] for _, r in results] == queries
        assert results[0][1] == results[4][1] and results[1][1] == results[5][1]

        status, err = served.get("/articles/not-an-id")
        assert status == 404 and err["error"] == "not_found"
    finally:
        code = served.stop(sig)
    assert code == 0, "".join(served.stderr)
    assert "qa serve: stopped" in "".join(served.stderr)
    assert "Traceback" not in "".join(served.stderr)


def _raw_request(sock: socket.socket, path: str = "/health") -> bytes:
    """Send a whole GET and read its whole response (headers and Content-Length body)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def _closed_by(sock: socket.socket, deadline: float) -> bool:
    """True once the server closes ``sock`` (before ``deadline``), sending nothing."""
    sock.settimeout(max(deadline - time.monotonic(), 0.01))
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_half_open_connections_are_closed_and_one_too_many_gets_503(qa_index):
    timeout, limit = 3.0, 100
    served = Served(qa_index, "--request-timeout", str(timeout),
                    "--max-connections", str(limit))
    host, port = served.url.removeprefix("http://").split(":")
    socks: list[socket.socket] = []
    try:
        started = time.monotonic()
        for _ in range(limit - 1):  # headers that never end: no blank line
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            socks.append(sock)
        # one that finishes a request, then starts another and stalls: the deadline re-arms
        kept = socket.create_connection((host, int(port)), timeout=10)
        assert _raw_request(kept).startswith(b"HTTP/1.1 200")
        kept.sendall(b"GET /health HTTP/1.1\r\n")
        socks.append(kept)

        extra = socket.create_connection((host, int(port)), timeout=5)
        busy = extra.recv(4096)
        assert busy.startswith(b"HTTP/1.1 503"), busy
        assert b"too many connections" in busy
        assert extra.recv(1) == b""  # and closed
        extra.close()

        assert time.monotonic() - started < timeout, "the machine is too slow for this test"
        for sock in socks:  # all still open: the limit is a deadline, not an instant refusal
            sock.setblocking(False)
            try:
                assert sock.recv(1) != b"", "closed before its deadline"
            except BlockingIOError:
                pass
            sock.setblocking(True)

        deadline = started + timeout + 5
        still_open = [s for s in socks if not _closed_by(s, deadline)]
        assert not still_open, f"{len(still_open)} of {len(socks)} connections still open"
        assert time.monotonic() - started >= timeout * 0.9

        with socket.create_connection((host, int(port)), timeout=10) as big:
            # headers still unfinished after 16 KiB are refused, not buffered on
            big.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"x" * 20_000)
            assert big.recv(4096).startswith(b"HTTP/1.1 400")

        status, health = served.get("/health")  # the server serves on
        assert status == 200 and health["status"] == "ok"
    finally:
        for sock in socks:
            sock.close()
        code = served.stop(signal.SIGTERM)
    assert code == 0, "".join(served.stderr)
    assert "Traceback" not in "".join(served.stderr)


def test_limits_out_of_range_are_usage_errors(capsys):
    from qa.cli import main

    assert main(["serve", "--max-connections", "0"]) == 2
    assert "--max-connections 0" in capsys.readouterr().err
    assert main(["serve", "--request-timeout", "0"]) == 2
    assert "--request-timeout 0" in capsys.readouterr().err


def test_binding_beyond_loopback_warns(qa_index, monkeypatch, capsys):
    import uvicorn

    from qa.cli import main

    bound = []

    def run(self, sockets=None):  # do not really open a public port in a test
        bound.append((self.config.host, self.config.port))
        self.started = True

    monkeypatch.setattr(uvicorn.Server, "run", run)
    assert main(["serve", "--index", qa_index, "--host", "0.0.0.0", "--port", "8765"]) == 0
    assert bound == [("0.0.0.0", 8765)]
    err = capsys.readouterr().err
    assert "warning: listening on 0.0.0.0, not loopback" in err

    assert main(["serve", "--index", qa_index, "--port", "8765"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_bad_port_is_a_usage_error(capsys):
    from qa.cli import main

    assert main(["serve", "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err
